"""The floors of tests/bench/updates (tests/bench/update_floors) stand for the wizard only if
they answer the same crowd with the same Bot API requests: one cycle of each, compared with
the real wizard's (sandbox partner API, SQLite) request by request."""

from __future__ import annotations

import os

import pytest

from tests.bench.crowd import STEPS_PER_CYCLE
from tests.bench.update_floors import FLOORS, REDIS_FLOORS, run_floor
from tests.bench.updates import run_wizard

# Recorded from the real wizard: /start_callback, doctor press, phone, name, Cancel.
WIZARD_CYCLE = [
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
    "editMessageReplyMarkup",
    "sendMessage",
    "editMessageReplyMarkup",
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
]


async def test_the_real_wizard_makes_the_recorded_requests() -> None:
    requests: list[str] = []
    result = await run_wizard(STEPS_PER_CYCLE, 1, requests=requests)
    assert result.count == STEPS_PER_CYCLE
    assert requests == WIZARD_CYCLE


@pytest.mark.parametrize("name", sorted(FLOORS))
async def test_each_floor_answers_the_crowd_with_the_wizards_requests(name: str) -> None:
    requests: list[str] = []
    result = await run_floor(FLOORS[name], 2 * STEPS_PER_CYCLE, 1, requests=requests)
    assert result.count == 2 * STEPS_PER_CYCLE  # every step got its prompt
    assert requests == WIZARD_CYCLE * 2


@pytest.mark.parametrize("name", sorted(REDIS_FLOORS))
async def test_each_redis_floor_answers_the_crowd_with_the_wizards_requests(name: str) -> None:
    if not (os.environ.get("TEST_REDIS_URL") and os.environ.get("TEST_POSTGRES_URL")):
        pytest.skip("needs TEST_REDIS_URL and TEST_POSTGRES_URL (.ci/run starts both)")
    requests: list[str] = []
    result = await run_floor(REDIS_FLOORS[name], 2 * STEPS_PER_CYCLE, 1, requests=requests)
    assert result.count == 2 * STEPS_PER_CYCLE
    assert requests == WIZARD_CYCLE * 2
