"""With no local directory the wizard lists the partner API's doctors: asked once a minute,
not at every opening. A doctor picked while that list is fresh is taken as the list says
(name, cost, availability: no second round trip); picked later, looked up at once. Either
way the start call is the partner's own word: a doctor gone unavailable meanwhile is
refused plainly there."""

from __future__ import annotations

import pytest

from bot.dialogs.start_callback import getters
from storage.enums import ConsultationState
from tests.wizard.conftest import Env
from tests.wizard.helpers import (
    ASK_DOCTOR,
    ASK_PHONE,
    CANCEL,
    CONFIRM,
    DOCTOR_101,
    NAME,
    NOW_ONLY,
    PHONE,
    SUMMARY,
    text,
)

UNAVAILABLE_NOTE = "⛔ Звонки к этому врачу сейчас недоступны"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(getters, "monotonic", lambda: now[0])
    return now


def _callbacks_stop(env: Env, doctor_id: int) -> None:
    """At the partner: the doctor takes no callbacks from now on."""
    for ctype in env.sandbox.doctors[doctor_id]["consultationTypes"]:
        if ctype["type"]["id"] == "Callback":
            ctype["isAvailable"] = False


async def test_the_api_doctor_list_is_reused_for_a_minute(env: Env, clock: list[float]) -> None:
    u = env.user()
    for _ in range(2):
        await u.send_command("start_callback")
        assert ASK_DOCTOR in text(u) and DOCTOR_101 in str(u.buttons())
        await u.press(CANCEL)
    assert len(env.sandbox.requests_for("doctor_get_all")) == 1

    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    assert ASK_PHONE in text(u) and UNAVAILABLE_NOTE not in text(u)
    assert env.sandbox.requests_for("doctor_get") == []  # the fresh list said it all

    clock[0] += getters.API_LIST_TTL + 1
    await u.press(CANCEL)
    await u.send_command("start_callback")
    assert len(env.sandbox.requests_for("doctor_get_all")) == 2  # a minute on: asked again


async def test_the_summary_shows_the_listed_cost(env: Env, clock: list[float]) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press(NOW_ONLY)
    listed = getters.listed_doctor(env.api, 101)
    assert listed is not None and listed.cost
    assert SUMMARY in text(u) and listed.cost in text(u)
    assert env.sandbox.requests_for("doctor_get") == []


async def test_a_pick_once_the_list_aged_is_looked_up(env: Env, clock: list[float]) -> None:
    u = env.user()
    await u.send_command("start_callback")
    _callbacks_stop(env, 101)
    clock[0] += getters.API_LIST_TTL + 1
    await u.press(DOCTOR_101)  # the buttons are the old list's; the doctor is asked now
    assert len(env.sandbox.requests_for("doctor_get")) == 1
    assert ASK_PHONE in text(u) and UNAVAILABLE_NOTE in text(u)


async def test_a_doctor_gone_unavailable_after_the_list_is_refused_at_the_start(
    env: Env, clock: list[float]
) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)  # as listed: available
    _callbacks_stop(env, 101)
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press(NOW_ONLY)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 1
    assert "Другой врач" in u.buttons()  # refused plainly: pick another doctor or time
    assert [c.state for c in await env.consultations()] == [ConsultationState.FAILED]
