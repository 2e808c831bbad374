"""The outbox sender and its claim lease: a row that waits longer than its lease for the
group window is still sent exactly once (not re-claimed and queued a second time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository
from tests.fake_telegram import FakeTelegram, Window

SF = async_sessionmaker[AsyncSession]
SPEED = 10.0  # lease-clock seconds per real second: a 12 s lease lasts 1.2 real seconds


def fast_clock() -> tuple[datetime, Callable[[], datetime]]:
    base, started = datetime.now(UTC), time.monotonic()

    def now() -> datetime:
        return base + timedelta(seconds=(time.monotonic() - started) * SPEED)

    return base, now


async def stored(sf: SF) -> list[OutboxMessage]:
    async with sf() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize("lines", [3, 5])
async def test_a_group_backlog_longer_than_the_lease_is_sent_once_in_order(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF, lines: int
) -> None:
    # A team chat at 2 lines per 2 s: the third line waits ~2 s (20 lease-clock seconds)
    # for the group window after its lease was checked, longer than its 12 s lease. The
    # run loop used to re-claim it meanwhile and queue a copy, sent as well.
    limits = fake_tg.rate_limits
    limits.enabled = True
    limits.per_chat = Window(1, 0.01)
    limits.per_group = Window(2, 1.9)
    group = fake_tg.group(-1001234, "Team")
    base, clock = fast_clock()
    async with session_factory() as session:
        for i in range(lines):
            await OutboxRepository(session).enqueue(group.chat_id, f"g{i}", now=base)
        await session.commit()
    sender = OutboxSender(
        bot, session_factory, clock=clock,
        lease=timedelta(seconds=12), group_per_minute=2, group_period=2.0,
        per_chat_interval=0.01,
        # The loop's idle sleeps are real seconds while the lease clock runs 10x: a short
        # max_idle lets it look (and, before the fix, re-claim) as soon as a lease ran out.
        max_idle=0.05,
    )
    sender.start()
    sender.wake()
    try:
        await sender.drain(20)
    finally:
        await sender.stop()

    texts = [(m.text or "").split("\n\n")[0] for m in group.bot_messages()]
    assert texts == [f"g{i}" for i in range(lines)]  # each once, in order
    rows = await stored(session_factory)
    assert all(r.sent_at is not None and not r.dead for r in rows)
    assert [r.attempts for r in rows] == [1] * lines  # never claimed a second time
    assert sender.sent_count == lines
