"""With no local directory the wizard lists the partner API's doctors: asked once a minute,
not at every opening; the doctor picked is still looked up at once."""

from __future__ import annotations

import pytest

from bot.dialogs.start_callback import getters
from tests.wizard.conftest import Env
from tests.wizard.helpers import ASK_DOCTOR, ASK_PHONE, CANCEL, DOCTOR_101, text


async def test_the_api_doctor_list_is_reused_for_a_minute(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(getters, "monotonic", lambda: clock[0])
    u = env.user()
    for _ in range(2):
        await u.send_command("start_callback")
        assert ASK_DOCTOR in text(u) and DOCTOR_101 in str(u.buttons())
        await u.press(CANCEL)
    assert len(env.sandbox.requests_for("doctor_get_all")) == 1

    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    assert ASK_PHONE in text(u)
    assert len(env.sandbox.requests_for("doctor_get")) == 1  # the pick: looked up now

    clock[0] += getters.API_LIST_TTL + 1
    await u.press(CANCEL)
    await u.send_command("start_callback")
    assert len(env.sandbox.requests_for("doctor_get_all")) == 2  # a minute on: asked again
