"""The list answers every press before loading the page, and only once."""

from __future__ import annotations

import logging

import pytest

from tests.consultations.conftest import World


async def test_paging_filters_and_rows_are_answered_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    user = world.coordinator
    await user.send_command("list")
    await user.press("▶️")
    await user.press("◀️")
    await user.press(next(b for b in user.buttons() if b.startswith("Finished")))
    await user.press(next(b for b in user.buttons() if b.startswith("1. ")))
    assert "History:" in user.last_bot_message().content
    assert world.tg.unanswered_queries() == []
    refused = [
        c for c in world.tg.state.calls
        if c.method.lower() == "answercallbackquery" and c.status != 200
    ]
    assert refused == []
    assert not [r for r in caplog.records if "answer callback" in r.getMessage().lower()]
