"""The outbox sender against the fake Telegram Bot API (over HTTP)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository
from tests.fake_telegram import FakeTelegram, Window

SF = async_sessionmaker[AsyncSession]


class RequestLog(BaseRequestMiddleware):
    """Client-side record of every send: (method, chat, started, finished, retry_after),
    read on ``monotonic`` (a fake clock's, for a sender driven step by step)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.calls: list[tuple[str, Any, float, float, int | None]] = []

    async def __call__(self, make_request: Any, bot: Bot, method: Any) -> Any:
        started = self.monotonic()
        retry_after = None
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            retry_after = exc.retry_after
            raise
        finally:
            name = type(method).__name__
            self.calls.append(
                (name, getattr(method, "chat_id", None), started, self.monotonic(), retry_after)
            )


async def enqueue(sf: SF, chat_id: int, text: str, **kw: Any) -> None:
    async with sf() as session:
        await OutboxRepository(session).enqueue(chat_id, text, **kw)
        await session.commit()


async def rows(sf: SF) -> list[OutboxMessage]:
    from sqlalchemy import select

    async with sf() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def plain(text: str | None) -> str:
    """The text without the sandbox demo mark."""
    return (text or "").split("\n\n")[0]


async def run_until_drained(sender: OutboxSender, limit: float = 30.0) -> None:
    sender.start()
    sender.wake()
    try:
        await sender.drain(limit)
    finally:
        await sender.stop()


async def test_delivers_in_order_with_markup_and_demo_mark(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    a, b = fake_tg.user(10), fake_tg.user(11)
    markup = {"inline_keyboard": [[{"text": "Open", "callback_data": "c:1"}]]}
    for i in range(3):
        await enqueue(session_factory, a.id, f"a{i}", reply_markup=markup if i == 0 else None)
        await enqueue(session_factory, b.id, f"b{i}")
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05)
    await run_until_drained(sender)
    assert [plain(m.text) for m in a.bot_messages()] == ["a0", "a1", "a2"]
    assert [plain(m.text) for m in b.bot_messages()] == ["b0", "b1", "b2"]
    assert a.buttons(a.bot_messages()[0]) == ["Open"]
    assert "DEMO" in (a.bot_messages()[0].text or "")
    stored = await rows(session_factory)
    assert all(r.sent_at is not None and r.sent_message_id for r in stored)


async def test_429_storm_keeps_order_loses_nothing_and_honours_retry_after(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    users = [fake_tg.user(100 + i) for i in range(3)]
    for n in range(4):
        for u in users:
            await enqueue(session_factory, u.id, f"{u.id}-{n}")
    fake_tg.force_429(5, retry_after=1)
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05)
    log = RequestLog()
    bot.session.middleware(log)  # registered last = innermost: times the network call itself
    await run_until_drained(sender)

    for u in users:
        assert [plain(m.text) for m in u.bot_messages()] == [f"{u.id}-{n}" for n in range(4)]
    assert fake_tg.too_many_requests_sent == 5
    refusals = [c for c in log.calls if c[4] is not None]
    assert len(refusals) == 5
    for _, _, _, refused_at, retry_after in refusals:
        assert retry_after is not None
        later = [c for c in log.calls if c[2] > refused_at]
        # No request at all (any chat) inside the retry_after window after a 429.
        bad = [
            (c[1], round(c[2] - refused_at, 4))
            for c in later
            if c[2] < refused_at + retry_after - 0.01
        ]
        assert not bad, bad
    stored = await rows(session_factory)
    assert all(r.sent_at is not None and not r.dead for r in stored)


async def test_blocked_user_marked_inactive_and_rows_dead(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    blocked, fine = fake_tg.user(20), fake_tg.user(21)
    async with session_factory() as session:
        await UserRepository(session).upsert(blocked.id, Role.COORDINATOR)
        await session.commit()
    blocked.block_bot()
    for i in range(2):
        await enqueue(session_factory, blocked.id, f"x{i}")
        await enqueue(session_factory, fine.id, f"y{i}")
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05)
    await run_until_drained(sender)
    assert [plain(m.text) for m in fine.bot_messages()] == ["y0", "y1"]
    assert blocked.bot_messages() == []
    stored = {r.text: r for r in await rows(session_factory)}
    assert stored["x0"].dead and stored["x1"].dead
    async with session_factory() as session:
        user = await UserRepository(session).get(blocked.id)
    assert user is not None and user.is_active is False


async def test_chat_not_found_is_dead(fake_tg: FakeTelegram, bot: Bot, session_factory: SF) -> None:
    await enqueue(session_factory, 999_999, "nobody")
    sender = OutboxSender(bot, session_factory)
    await run_until_drained(sender)
    (row,) = await rows(session_factory)
    assert row.dead and "chat not found" in (row.last_error or "")


async def test_migrated_group_rows_follow_the_new_id(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    old = fake_tg.group(-500, "Team")
    new = old.migrate_to_supergroup(-100500)
    migrations: list[tuple[int, int]] = []

    async def on_migrated(a: int, b: int) -> None:
        migrations.append((a, b))

    for i in range(3):
        await enqueue(session_factory, -500, f"t{i}")
    sender = OutboxSender(
        bot,
        session_factory,
        per_chat_interval=0.05,
        on_chat_migrated=on_migrated,
        team_chat_id=-500,
    )
    await run_until_drained(sender)
    assert [plain(m.text) for m in new.bot_messages()] == ["t0", "t1", "t2"]
    assert migrations and migrations[0] == (-500, -100500)
    assert all(r.chat_id == -100500 and r.sent_at for r in await rows(session_factory))
    # A row queued later for the old id goes straight to the new one.
    await enqueue(session_factory, -500, "t3")
    await run_until_drained(sender)
    assert plain(new.bot_messages()[-1].text) == "t3"


async def test_not_modified_counts_as_sent_and_missing_message_is_sent_anew(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    u = fake_tg.user(30)
    await enqueue(session_factory, u.id, "card v1")
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05)
    await run_until_drained(sender)
    (first,) = await rows(session_factory)
    assert first.sent_message_id is not None
    await enqueue(session_factory, u.id, "card v1", edit_message_id=first.sent_message_id)
    await enqueue(session_factory, u.id, "card v2", edit_message_id=first.sent_message_id)
    await enqueue(session_factory, u.id, "lost card", edit_message_id=424242)
    await run_until_drained(sender)
    stored = await rows(session_factory)
    assert all(r.sent_at is not None and not r.dead for r in stored)
    messages = u.bot_messages()
    assert [plain(m.text) for m in messages] == ["card v2", "lost card"]
    assert messages[0].message_id == first.sent_message_id


async def test_restart_delivers_queued_and_abandoned_claims(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    u = fake_tg.user(40)
    for i in range(3):
        await enqueue(session_factory, u.id, f"r{i}")
    # A previous process claimed the first row and died before sending it.
    now = datetime.now(UTC)
    async with session_factory() as session:
        claimed = await OutboxRepository(session).claim_due(now, 1, timedelta(seconds=60))
        await session.commit()
    assert [r.text for r in claimed] == ["r0"]
    later = now + timedelta(seconds=61)
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05, clock=lambda: later)
    await run_until_drained(sender)
    assert [plain(m.text) for m in u.bot_messages()] == ["r0", "r1", "r2"]


async def test_rate_caps_respected(fake_tg: FakeTelegram, bot: Bot, session_factory: SF) -> None:
    # The fake enforces Telegram-like limits and the sender must deliver everything through
    # them. Server and client share one busy event loop here, so server-side arrival times
    # bunch up by a few hundred ms and the fake may answer an occasional 429 (which the
    # sender then honours): the sender's own caps are checked on the client's request log,
    # taken at the last step before the network.
    limits = fake_tg.rate_limits
    limits.enabled = True
    limits.overall = Window(30, 1.0)
    limits.per_chat = Window(1, 0.75)
    limits.per_group = Window(3, 0.75)
    users = [fake_tg.user(1000 + i) for i in range(40)]
    for u in users:
        await enqueue(session_factory, u.id, "hello")
    for i in range(2):
        await enqueue(session_factory, users[0].id, f"second {i}")
    group = fake_tg.group(-900, "Group")
    for i in range(5):
        await enqueue(session_factory, group.chat_id, f"g{i}")
    sender = OutboxSender(
        bot,
        session_factory,
        global_rate=25,
        per_chat_interval=1.0,
        group_per_minute=3,
        group_period=1.0,
    )
    log = RequestLog()
    bot.session.middleware(log)
    await run_until_drained(sender, limit=60)
    assert len(fake_tg.deliveries()) == 40 + 2 + 5
    starts = sorted(c[2] for c in log.calls)
    assert max(sum(1 for s in starts if t <= s < t + 0.999) for t in starts) <= 25
    per_chat: dict[Any, list[float]] = defaultdict(list)
    for c in log.calls:
        per_chat[c[1]].append(c[2])
    for stamps in per_chat.values():
        assert all(b - a >= 0.999 for a, b in itertools.pairwise(sorted(stamps)))
    group_starts = sorted(per_chat[group.chat_id])  # refused (429) attempts count too
    assert len([c for c in log.calls if c[1] == group.chat_id and c[4] is None]) == 5
    assert all(b - a >= 0.999 for a, b in zip(group_starts, group_starts[3:], strict=False))
    assert [plain(m.text) for m in group.bot_messages()] == [f"g{i}" for i in range(5)]


@pytest.mark.parametrize("wake", [True])
async def test_wake_sends_without_polling_delay(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF, wake: bool
) -> None:
    u = fake_tg.user(50)
    sender = OutboxSender(bot, session_factory, max_idle=3600.0)
    sender.start()
    try:
        # The loop found nothing due and now sleeps up to max_idle (an hour): only wake()
        # can make the send below arrive within the test at all, however busy the machine
        # (no wall time measured; the timeouts only bound a hang).
        await asyncio.wait_for(sender.idle.wait(), 30)
        await enqueue(session_factory, u.id, "now")
        sender.wake()
        await fake_tg.wait_for_messages(u.id, 1, timeout=30)
    finally:
        await sender.stop()


async def test_a_chat_429_pauses_that_chat_only(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    # The fake's group limit is stricter than the sender's: the group's third message is
    # refused for ~2 s. That is the group's own limit (it was just written to), so the
    # private chats keep going meanwhile, and the group waits the whole retry_after.
    limits = fake_tg.rate_limits
    limits.enabled = True
    limits.per_chat = Window(1, 0.01)
    limits.per_group = Window(2, 2.0)
    group = fake_tg.group(-901, "Group")
    users = [fake_tg.user(1100 + i) for i in range(3)]
    for i in range(3):
        await enqueue(session_factory, group.chat_id, f"g{i}")
    for n in range(4):
        for u in users:
            await enqueue(session_factory, u.id, f"{u.id}-{n}")
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.3)
    log = RequestLog()
    bot.session.middleware(log)
    await run_until_drained(sender)

    assert [plain(m.text) for m in group.bot_messages()] == ["g0", "g1", "g2"]
    for u in users:
        assert [plain(m.text) for m in u.bot_messages()] == [f"{u.id}-{n}" for n in range(4)]
    refusals = [c for c in log.calls if c[4] is not None]
    assert refusals and all(c[1] == group.chat_id for c in refusals)
    for _, _, _, refused_at, retry_after in refusals:
        assert retry_after is not None
        inside = [c for c in log.calls if refused_at < c[2] < refused_at + retry_after - 0.01]
        assert not [c for c in inside if c[1] == group.chat_id]
        assert [c for c in inside if c[1] != group.chat_id]  # the others were not held up
