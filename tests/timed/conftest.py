"""Tests of timed waits: each runs, with its fixtures, on a loop whose clock is virtual
(tests/virtual_time.py); the shared fixtures of tests/bot_fixtures.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from tests.bot_fixtures import *  # noqa: F403
from tests.bot_fixtures import assert_spec_kept
from tests.fake_telegram import FakeTelegram
from tests.virtual_time import new_virtual_loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], Any]]:
    return {"virtual-time": new_virtual_loop}


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    """The fake on the loop's clock: its rate limits count loop seconds."""
    async with FakeTelegram(clock=asyncio.get_running_loop().time) as tg:
        yield tg
    assert_spec_kept(tg)


REAL_SECONDS_LIMIT = 60.0


@pytest.fixture(autouse=True)
async def _real_time_watchdog() -> AsyncIterator[None]:
    """A wait that never lets the virtual clock move (a sliver of a sleep recomputed for
    ever) would spin without end: after a minute of real time every task of the loop is
    cancelled, so such a test fails instead of hanging the suite."""
    loop = asyncio.get_running_loop()

    def cancel_all() -> None:
        for task in asyncio.all_tasks(loop):
            task.cancel("the virtual-time test ran a minute of real time")

    timer = threading.Timer(REAL_SECONDS_LIMIT, loop.call_soon_threadsafe, (cancel_all,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
