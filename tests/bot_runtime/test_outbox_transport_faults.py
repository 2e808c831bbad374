"""The outbox against Telegram's 5xx answers and dropped connections (the fake's
force_error / force_drop): each is retried with growing backoff, nothing is lost or
duplicated, and no message of a chat overtakes an earlier one that failed. The sender runs
on a fake clock, step by step (tests/faults/outbox_steps.py): no wall time is measured."""

from __future__ import annotations

import itertools

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fake_telegram import FakeTelegram
from tests.faults.clock import FakeClock
from tests.faults.outbox_steps import enqueue, sender, stored
from tests.outbox_helpers import RequestLog, plain

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
    # On a fake clock, stepped from one due time to the next: the delays checked are the
    # ones the sender asked for (stored with the row), not wall time between requests,
    # which a busy machine stretches (the gaps once came out in the wrong order).
    clock = FakeClock()
    a, b = fake_tg.user(71), fake_tg.user(72)
    for i in range(3):
        await enqueue(session_factory, clock, a.id, f"a{i}")
    for i in range(2):
        await enqueue(session_factory, clock, b.id, f"b{i}")
    # a0 meets a 502, a 503 and a dropped connection before it gets through; b0 a drop.
    fake_tg.force_error(1, status=502, chat_id=a.id)
    fake_tg.force_error(1, status=503, chat_id=a.id)
    fake_tg.force_drop(1, chat_id=a.id)
    fake_tg.force_drop(1, chat_id=b.id)
    out = sender(bot, session_factory, clock, backoff_base=0.2)
    log = RequestLog(clock.monotonic)
    bot.session.middleware(log)
    asked: list[float] = []  # a0's retry delays, as the sender stored them
    for _ in range(10):
        await out.run_once()
        current = await stored(session_factory)
        a0 = current[0]
        if a0.sent_at is None and a0.failures > len(asked):
            asked.append((a0.next_attempt_at - clock.now()).total_seconds())
        waiting = [r.next_attempt_at for r in current if r.sent_at is None and not r.dead]
        if not waiting:
            break
        later = [t for t in waiting if t > clock.now()]
        assert later, "a row that is due was not claimed"
        clock.advance((min(later) - clock.now()).total_seconds())
    else:
        raise AssertionError(f"not drained: {fake_tg.describe()}")

    assert [plain(m.text) for m in a.bot_messages()] == ["a0", "a1", "a2"]
    assert [plain(m.text) for m in b.bot_messages()] == ["b0", "b1"]
    assert all(r.sent_at is not None and not r.dead for r in await stored(session_factory))

    def statuses(chat_id: int) -> list[int]:
        calls = fake_tg.calls("sendMessage")
        return [c.status for c in calls if str(c.params["chat_id"]) == str(chat_id)]

    assert statuses(a.id) == [502, 503, 0, 200, 200, 200]
    assert statuses(b.id) == [0, 200, 200]
    # Backoff: base 0.2 s doubling per failed send, ±20 % jitter; each longer than the last.
    assert len(asked) == 3, asked
    for delay, nominal in zip(asked, (0.2, 0.4, 0.8), strict=True):
        assert 0.8 * nominal - 1e-6 <= delay <= 1.2 * nominal + 1e-6, asked
    assert asked[0] < asked[1] < asked[2], asked
    # Each retry went out when its delay was over, not before (fake time, exact).
    a_starts = [c[2] for c in log.calls if c[1] == a.id]
    gaps = [later - earlier for earlier, later in itertools.pairwise(a_starts[:4])]
    assert gaps == pytest.approx(asked, abs=1e-5), (gaps, asked)
