"""A crash during Confirm: the start record was committed (``starting``), the process died
in the call, the summary with its Confirm button is still on screen and in the stored
conversation. After the restart that Confirm is dead: it never makes a second request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from storage.enums import ConsultationState
from storage.models import FsmRecord
from tests.wizard.conftest import Env
from tests.wizard.helpers import CONFIRM, text, to_summary


class Crash(RuntimeError):
    """Stands for the process dying mid-call (after the partner got the request)."""


async def test_the_old_confirm_is_refused_after_a_crash_mid_call(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    u = env.user()
    await to_summary(u)
    real = env.api.start_callback

    async def start_then_die(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)
        raise Crash

    monkeypatch.setattr(env.api, "start_callback", start_then_die)
    async with env.session_factory() as session:  # the conversation as stored before
        table = FsmRecord.__table__
        saved = [dict(row._mapping) for row in await session.execute(select(table))]
    caplog.set_level("ERROR")
    await u.press(CONFIRM)
    monkeypatch.setattr(env.api, "start_callback", real)
    async with env.session_factory() as session:
        # kill -9 mid-call: no error handler ran, nothing after the press was stored.
        await session.execute(delete(table))
        await session.execute(insert(table), saved)
        await session.commit()
    (record,) = await env.consultations()
    assert record.state is ConsultationState.STARTING and len(env.start_requests()) == 1
    caplog.clear()

    await env.restart()  # a new process on the same database and conversation state
    await u.press(CONFIRM)  # the summary's old button
    if "уже запускали" not in text(u):
        # Before: only the phone warning stood in the way, and a hurried coordinator
        # goes past it ("Continue anyway") and confirms: a second call of the patient.
        await u.press("Всё равно продолжить")
        await u.press(CONFIRM)
    assert len(env.start_requests()) == 1, "the old Confirm started it a second time"
    assert "уже запускали с этой сводки" in text(u)
    (same,) = await env.consultations()
    assert same.id == record.id
