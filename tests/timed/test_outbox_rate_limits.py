"""The outbox sender's timed waits — rate windows, retry_after pauses — against the fake
Telegram Bot API (over HTTP), on virtual loop time (tests/virtual_time.py): the seconds the
sender waits pass on the loop's clock, which the sender, the fake's rate limiter and the
request log all read, and take milliseconds of real time; nothing depends on the machine's
load."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
from aiogram import Bot

from bot.outbox import OutboxSender
from tests.fake_telegram import FakeTelegram, Window
from tests.outbox_helpers import SF, RequestLog, enqueue, plain, run_until_drained, stored
from tests.virtual_time import wall_clock


def loop_now() -> datetime:
    """Now on the loop's wall clock: rows are queued on the sender's clock, so they are due
    on any real date."""
    return wall_clock(asyncio.get_running_loop())()


def loop_clocks() -> dict[str, Any]:
    """The sender's clocks, read from the running loop."""
    loop = asyncio.get_running_loop()
    return {"clock": wall_clock(loop), "monotonic": loop.time}


async def test_the_loop_clock_is_virtual() -> None:
    # The premise of this module: an hour of waiting passes at once, as an hour.
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(3600)
    assert loop.time() - started == pytest.approx(3600)


async def test_429_storm_keeps_order_loses_nothing_and_honours_retry_after(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    users = [fake_tg.user(100 + i) for i in range(3)]
    for n in range(4):
        for u in users:
            await enqueue(session_factory, u.id, f"{u.id}-{n}", now=loop_now())
    fake_tg.force_429(5, retry_after=1)
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05, **loop_clocks())
    log = RequestLog(asyncio.get_running_loop().time)
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
    saved = await stored(session_factory)
    assert all(r.sent_at is not None and not r.dead for r in saved)


async def test_rate_caps_respected(fake_tg: FakeTelegram, bot: Bot, session_factory: SF) -> None:
    # The fake enforces Telegram-like limits and the sender must deliver everything through
    # them: the sender's own caps are checked on the client's request log, taken at the last
    # step before the network (an occasional 429 of the fake is honoured, not counted here).
    limits = fake_tg.rate_limits
    limits.enabled = True
    limits.overall = Window(30, 1.0)
    limits.per_chat = Window(1, 0.75)
    limits.per_group = Window(3, 0.75)
    users = [fake_tg.user(1000 + i) for i in range(40)]
    for u in users:
        await enqueue(session_factory, u.id, "hello", now=loop_now())
    for i in range(2):
        await enqueue(session_factory, users[0].id, f"second {i}", now=loop_now())
    group = fake_tg.group(-900, "Group")
    for i in range(5):
        await enqueue(session_factory, group.chat_id, f"g{i}", now=loop_now())
    sender = OutboxSender(
        bot,
        session_factory,
        global_rate=25,
        per_chat_interval=1.0,
        group_per_minute=3,
        group_period=1.0,
        **loop_clocks(),
    )
    log = RequestLog(asyncio.get_running_loop().time)
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
        await enqueue(session_factory, group.chat_id, f"g{i}", now=loop_now())
    for n in range(4):
        for u in users:
            await enqueue(session_factory, u.id, f"{u.id}-{n}", now=loop_now())
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.3, **loop_clocks())
    log = RequestLog(asyncio.get_running_loop().time)
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
