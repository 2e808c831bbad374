"""The outbox sender and its claim lease: a row that waits longer than its lease for the
group window is still sent exactly once (not re-claimed and queued a second time). On
virtual loop time (tests/virtual_time.py): the lease, the group window and the sender's idle
looks are all seconds of the loop's clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.repositories.outbox import OutboxRepository
from tests.fake_telegram import FakeTelegram, Window
from tests.outbox_helpers import stored
from tests.virtual_time import wall_clock

SF = async_sessionmaker[AsyncSession]
LEASE = timedelta(seconds=12)
GROUP_PERIOD = 20.0  # a group's window: longer than the lease


@pytest.mark.parametrize("lines", [3, 5])
async def test_a_group_backlog_longer_than_the_lease_is_sent_once_in_order(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF, lines: int
) -> None:
    # A team chat at 2 lines per 20 s: the third line waits ~20 s for the group window
    # after its lease was checked, longer than its 12 s lease, and no heartbeat renews the
    # lease meanwhile (as when one comes late: a stalled database). The run loop used to
    # re-claim such a row and queue a copy, sent as well.
    loop = asyncio.get_running_loop()
    clock = wall_clock(loop)
    limits = fake_tg.rate_limits
    limits.enabled = True
    limits.per_chat = Window(1, 0.01)
    limits.per_group = Window(2, GROUP_PERIOD - 0.1)
    group = fake_tg.group(-1001234, "Team")
    async with session_factory() as session:
        for i in range(lines):
            await OutboxRepository(session).enqueue(group.chat_id, f"g{i}", now=clock())
        await session.commit()
    started = loop.time()
    sender = OutboxSender(
        bot,
        session_factory,
        clock=clock,
        monotonic=loop.time,
        lease=LEASE,
        heartbeat=100 * LEASE.total_seconds(),
        group_per_minute=2,
        group_period=GROUP_PERIOD,
        per_chat_interval=0.01,
        # The run loop looks every second: before the fix it re-claimed a row as soon as
        # its lease ran out.
        max_idle=1.0,
    )
    sender.start()
    sender.wake()
    try:
        await sender.drain(10 * GROUP_PERIOD)
    finally:
        await sender.stop()

    texts = [(m.text or "").split("\n\n")[0] for m in group.bot_messages()]
    assert texts == [f"g{i}" for i in range(lines)]  # each once, in order
    rows = await stored(session_factory)
    assert all(r.sent_at is not None and not r.dead for r in rows)
    assert [r.attempts for r in rows] == [1] * lines  # never claimed a second time
    assert sender.sent_count == lines
    # The backlog did outlast the lease: the last pair waited a whole group window.
    assert loop.time() - started > LEASE.total_seconds()
