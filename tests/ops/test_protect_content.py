"""Outbox rows about a consultation (notices, reminders, can't-take replies: patient name,
phone, medical text) reach Telegram with protect_content; other rows (the team line, an
alert, an invite) do not, so they stay forwardable."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.enums import Audience, Role
from storage.repositories import ConsultationRepository, OutboxRepository, UserRepository
from tests.fake_telegram import FakeTelegram
from tests.fixed_days import FixedClock

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
COORDINATOR = 1001


async def test_consultation_rows_are_protected(
    session_factory: async_sessionmaker[AsyncSession], bot: Bot, fake_tg: FakeTelegram
) -> None:
    user = fake_tg.user(COORDINATOR)
    async with session_factory() as session:
        await UserRepository(session).upsert(COORDINATOR, Role.COORDINATOR)
        row = await ConsultationRepository(session).create_starting(
            "protect1", coordinator_id=COORDINATOR, doctor_id=101, doctor_name="Иванов",
            patient_name="Петров Пётр", patient_phone="+79099708593", now=NOW,
        )
        outbox = OutboxRepository(session)
        await outbox.enqueue(
            COORDINATOR, "Booked: patient Петров Пётр", consultation_id=row.id,
            audience=Audience.CONSULTATION, dedupe_key="p:notice", now=NOW,
        )
        await outbox.enqueue(COORDINATOR, "Your invite link", dedupe_key="p:plain", now=NOW)
        await session.commit()
    sender = OutboxSender(bot, session_factory, clock=FixedClock(NOW))
    sender.start()
    sender.wake()
    try:
        await sender.drain(30)
    finally:
        await sender.stop()
    sent = {
        str(c.params["text"]).split("\n", 1)[0]: c.params.get("protect_content")
        for c in fake_tg.calls("sendMessage")
    }
    assert sent["Booked: patient Петров Пётр"] in (True, "true"), sent
    assert sent["Your invite link"] in (None, False, "false"), sent
    notice, plain = user.bot_messages()
    assert notice.protected and not plain.protected
