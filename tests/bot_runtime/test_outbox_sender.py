"""The outbox sender against the fake Telegram Bot API (over HTTP)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot

from bot.outbox import OutboxSender
from storage.enums import Role
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository
from tests.fake_telegram import FakeTelegram
from tests.outbox_helpers import SF, enqueue, plain, run_until_drained, stored


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
    saved = await stored(session_factory)
    assert all(r.sent_at is not None and r.sent_message_id for r in saved)


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
    saved = {r.text: r for r in await stored(session_factory)}
    assert saved["x0"].dead and saved["x1"].dead
    async with session_factory() as session:
        user = await UserRepository(session).get(blocked.id)
    assert user is not None and user.is_active is False


async def test_chat_not_found_is_dead(fake_tg: FakeTelegram, bot: Bot, session_factory: SF) -> None:
    await enqueue(session_factory, 999_999, "nobody")
    sender = OutboxSender(bot, session_factory)
    await run_until_drained(sender)
    (row,) = await stored(session_factory)
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
    assert all(r.chat_id == -100500 and r.sent_at for r in await stored(session_factory))
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
    (first,) = await stored(session_factory)
    assert first.sent_message_id is not None
    await enqueue(session_factory, u.id, "card v1", edit_message_id=first.sent_message_id)
    await enqueue(session_factory, u.id, "card v2", edit_message_id=first.sent_message_id)
    await enqueue(session_factory, u.id, "lost card", edit_message_id=424242)
    await run_until_drained(sender)
    saved = await stored(session_factory)
    assert all(r.sent_at is not None and not r.dead for r in saved)
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
