"""Every press of the wizard is answered exactly once: early where work is slow, and never
again by aiogram-dialog (no refused second answer, no "Cannot answer callback" warning)."""

from __future__ import annotations

import logging

import pytest

from tests.wizard.conftest import Env
from tests.wizard.helpers import CONFIRM, text, to_summary


def _refused_answers(env: Env) -> list[str]:
    return [
        f"{c.status} {c.description}"
        for c in env.tg.state.calls
        if c.method.lower() == "answercallbackquery" and c.status != 200
    ]


async def test_doctor_press_and_confirm_are_answered_once(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    u = env.user()
    await to_summary(u)  # includes the doctor press, answered before the lookup
    await u.press(CONFIRM)  # answered before the start call
    assert "Консультация " in text(u) and "Зарегистрирована" in text(u)
    assert len(env.start_requests()) == 1
    assert env.tg.unanswered_queries() == []
    assert _refused_answers(env) == []
    assert not [r for r in caplog.records if "answer callback" in r.getMessage().lower()]


def test_answered_record_is_consumed_once_and_bounded() -> None:
    from bot.dialogs.answered import AnsweredQueries

    record = AnsweredQueries(limit=2)
    record.add("a")
    assert record.consume("a") and not record.consume("a")
    for qid in ("b", "c", "d"):
        record.add(qid)
    assert not record.consume("b")  # the oldest was dropped past the limit
    assert record.consume("c") and record.consume("d")
