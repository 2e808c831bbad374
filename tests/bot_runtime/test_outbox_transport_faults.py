"""The outbox against Telegram's 5xx answers and dropped connections (the fake's
force_error / force_drop): each is retried with growing backoff, nothing is lost or
duplicated, and no message of a chat overtakes an earlier one that failed."""

from __future__ import annotations

import itertools

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from tests.bot_runtime.test_outbox_sender import (
    RequestLog,
    enqueue,
    plain,
    rows,
    run_until_drained,
)
from tests.fake_telegram import FakeTelegram

SF = async_sessionmaker[AsyncSession]


async def test_fake_faults_reach_the_client_as_telegram_would(
    fake_tg: FakeTelegram, bot: Bot
) -> None:
    u = fake_tg.user(70)
    fake_tg.force_error(1, status=502)
    fake_tg.force_drop(1)
    try:
        await bot.send_message(u.id, "a")
        raise AssertionError("the 502 did not reach the client")
    except TelegramServerError:
        pass
    try:
        await bot.send_message(u.id, "b")
        raise AssertionError("the dropped connection did not reach the client")
    except TelegramNetworkError:
        pass
    await bot.send_message(u.id, "c")
    assert [plain(m.text) for m in u.bot_messages()] == ["c"]  # the failed calls did nothing
    assert [c.status for c in fake_tg.calls("sendMessage")] == [502, 0, 200]


async def test_5xx_and_drops_are_retried_with_backoff_in_chat_order(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    a, b = fake_tg.user(71), fake_tg.user(72)
    for i in range(3):
        await enqueue(session_factory, a.id, f"a{i}")
    for i in range(2):
        await enqueue(session_factory, b.id, f"b{i}")
    # a0 meets a 502, a 503 and a dropped connection before it gets through; b0 a drop.
    fake_tg.force_error(1, status=502, chat_id=a.id)
    fake_tg.force_error(1, status=503, chat_id=a.id)
    fake_tg.force_drop(1, chat_id=a.id)
    fake_tg.force_drop(1, chat_id=b.id)
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.05, backoff_base=0.2)
    log = RequestLog()
    bot.session.middleware(log)
    await run_until_drained(sender)

    assert [plain(m.text) for m in a.bot_messages()] == ["a0", "a1", "a2"]
    assert [plain(m.text) for m in b.bot_messages()] == ["b0", "b1"]
    assert all(r.sent_at is not None for r in await rows(session_factory))
    statuses = [
        c.status for c in fake_tg.calls("sendMessage") if str(c.params["chat_id"]) == str(a.id)
    ]
    assert statuses == [502, 503, 0, 200, 200, 200]
    # Backoff: each retry of a0 waits longer than the one before (base 0.2 s, doubling,
    # ±20% jitter: at least 0.16 s, 0.32 s, 0.64 s).
    a_starts = [c[2] for c in log.calls if c[1] == a.id]
    gaps = [later - earlier for earlier, later in itertools.pairwise(a_starts[:4])]
    assert gaps[0] >= 0.15 and gaps[1] >= 0.3 and gaps[2] >= 0.6, gaps
    assert gaps[0] < gaps[1] < gaps[2], gaps
