"""Sends in flight: a crash repeats what Telegram received but the outbox had not recorded
yet, so the sender keeps at most ``sends_in_flight`` sends between the network and their
record — however many chats have rows ready. Telegram holds the answers here (the messages
are stored, the bot does not know yet): what a ``kill -9`` at that moment would repeat."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository
from tests.fake_telegram import FakeTelegram

SF = async_sessionmaker[AsyncSession]
CHATS = range(5100, 5108)


async def unrecorded_at_telegram(fake_tg: FakeTelegram, sf: SF) -> int:
    """Messages Telegram stored whose rows are not marked sent: a crash now repeats them."""
    async with sf() as session:
        unsent = {
            (row.chat_id, row.text)
            for row in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
            )
        }
    stored = {  # the sandbox demo mark cut off
        (chat, (message.text or "").split("\n\n")[0])
        for chat in CHATS
        for message in fake_tg.bot_messages(chat)
    }
    return len(stored & unsent)


@pytest.mark.parametrize("in_flight", [1, 3])
async def test_no_more_sends_than_the_bound_reach_telegram_unrecorded(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF, in_flight: int
) -> None:
    for chat in CHATS:
        fake_tg.user(chat)
    async with session_factory() as session:
        for chat in CHATS:
            await OutboxRepository(session).enqueue(chat, f"to {chat}")
        await session.commit()
    fake_tg.hold_answers()
    sender = OutboxSender(bot, session_factory, per_chat_interval=0.0, sends_in_flight=in_flight)
    run = asyncio.create_task(sender.run_once())
    # Every chat's send has been granted its rate windows (they count as in flight there)
    # and waits for a slot, or holds one: nothing else can move until Telegram answers.
    await fake_tg.wait_for(lambda: len(fake_tg.held) >= in_flight)
    async with asyncio.timeout(10):
        while sender.limits._global.in_flight < len(CHATS):  # noqa: ASYNC110
            await asyncio.sleep(0)  # the workers' own steps: no time passes for them

    assert len(fake_tg.held) == in_flight  # before: all 8 at once
    assert sender.slots.busy == in_flight
    assert await unrecorded_at_telegram(fake_tg, session_factory) == in_flight

    fake_tg.release_answers()
    await run
    assert [len(fake_tg.bot_messages(chat)) for chat in CHATS] == [1] * len(CHATS)
    assert await unrecorded_at_telegram(fake_tg, session_factory) == 0
    assert sender.slots.busy == 0

