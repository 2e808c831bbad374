"""Virtual loop time for the tests of timed waits (rate limits, retry_after pauses).

The tests under tests/timed/ (its conftest answers pytest-asyncio's
``pytest_asyncio_loop_factories`` hook with ``new_virtual_loop``) run, with their fixtures,
on an event loop of looptime (github.com/nolar/looptime) whose clock is fake from
the start: when no callback is ready and no I/O has come in for a few loop cycles, the clock
jumps to the next timer. The code under test sees the seconds it waits as seconds of
``loop.time()`` and spends milliseconds on them, and no result depends on how busy the
machine is. I/O with the in-process fakes (the fake Telegram over loopback, SQLite) happens
for real and takes no loop time.

Everything timed must read the loop's clock: pass ``loop.time`` as the monotonic clock
(the outbox sender, the fake Telegram's rate limiter, a request log) and ``wall_clock(loop)``
where a UTC datetime is wanted (the outbox rows' due times).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import looptime

START = 1000.0  # loop seconds at the start: away from 0, which some code reads as "never"
EPOCH = datetime(2031, 5, 6, 9, 0, tzinfo=UTC)  # what wall_clock shows at loop time 0


def new_virtual_loop() -> asyncio.AbstractEventLoop:
    return looptime.new_event_loop(start=START)


def wall_clock(loop: asyncio.AbstractEventLoop) -> Callable[[], datetime]:
    """UTC datetimes that move with the loop's clock (from a fixed, arbitrary day)."""

    def now() -> datetime:
        return EPOCH + timedelta(seconds=loop.time())

    return now
