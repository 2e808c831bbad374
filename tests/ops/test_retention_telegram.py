"""Retention also wipes Telegram's copies: the card, the notices and the reminders the bot
sent about a purged consultation are edited down to "consultation <short id> — details
removed after N days", through the outbox (its limits and retries); a message Telegram no
longer lets the bot edit (deleted) gets no new message and is counted in the next run's
one log line. Search texts kept in conversation state go too.

End to end: the job's clock is injected, the sender's clock is the same day, and Telegram
is the fake one (tests/fake_telegram)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.jobs.retention import SEARCH_TEXT_FIELDS, RetentionJob
from bot.outbox import OutboxSender
from bot.routers.consultations import FIND_KEY
from storage.enums import Audience, ConsultationState, Role
from storage.models import Consultation, FsmRecord, OutboxMessage
from storage.repositories import ConsultationRepository, OutboxRepository, UserRepository
from tests.fake_telegram import FakeTelegram
from tests.fixed_days import FixedClock

Factory = async_sessionmaker[AsyncSession]
DAYS = 30
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
COORDINATOR, DOCTOR, TEAM = 1001, 2001, -100500
NAME, PHONE = "Сидорова Анна", "+79099708593"


async def _setup(session_factory: Factory, bot: Bot) -> dict[str, int]:
    """A consultation final 31 days ago and what the bot sent about it."""
    ids: dict[str, int] = {}
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(COORDINATOR, Role.COORDINATOR)
        await users.set_language(COORDINATOR, "en")
        await users.upsert(DOCTOR, Role.DOCTOR, doctor_id=101)
        repo = ConsultationRepository(session)
        row = await repo.create_starting(
            "wipe0001", coordinator_id=COORDINATOR, doctor_id=101, doctor_name="Иванов Иван",
            patient_name=NAME, patient_phone=PHONE, now=NOW - timedelta(days=40),
        )
        await repo.bind_partner_id(row.id, "9f1c2d3e-aaaa-bbbb", now=NOW - timedelta(days=40))
        card = await bot.send_message(COORDINATOR, f"Card: {NAME}, {PHONE}")
        await repo.set_card(row.id, COORDINATOR, card.message_id)
        outbox = OutboxRepository(session)
        sent = {
            # (chat, text, audience): what the sender delivered earlier
            "notice": (DOCTOR, f"Booked: patient {NAME}", Audience.CONSULTATION),
            "reminder": (COORDINATOR, f"Reminder: patient {NAME}", Audience.CONSULTATION),
            "team": (TEAM, "9f1c2d3e: Processed", None),
        }
        for key, (chat, text, audience) in sent.items():
            message = await bot.send_message(chat, text)
            await outbox.enqueue(
                chat, text, dedupe_key=f"t:{key}", consultation_id=row.id, audience=audience,
                now=NOW - timedelta(days=32),
            )
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.dedupe_key == f"t:{key}")
                .values(sent_at=NOW - timedelta(days=32), sent_message_id=message.message_id)
            )
            ids[key] = message.message_id
        # The card was edited through the outbox too: the same Telegram message, wiped once.
        await outbox.enqueue(
            COORDINATOR, f"Card: {NAME}", edit_message_id=card.message_id,
            dedupe_key="t:card-edit", consultation_id=row.id, audience=Audience.CONSULTATION,
            now=NOW - timedelta(days=31),
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "t:card-edit")
            .values(sent_at=NOW - timedelta(days=31), sent_message_id=card.message_id)
        )
        await session.execute(
            update(Consultation)
            .where(Consultation.id == row.id)
            .values(
                state=ConsultationState.FINAL,
                last_status="Processed",
                last_status_at=NOW - timedelta(days=31),
            )
        )
        await session.commit()
    ids["card"] = card.message_id
    # The coordinator deleted the reminder: Telegram has nothing left to edit.
    await bot.delete_message(COORDINATOR, ids["reminder"])
    return ids


async def _drain(bot: Bot, session_factory: Factory, now: datetime) -> None:
    outbox = OutboxSender(bot, session_factory, clock=FixedClock(now))
    outbox.start()
    outbox.wake()
    try:
        await outbox.drain(30)
    finally:
        await outbox.stop()


async def test_purge_wipes_the_messages_telegram_keeps(
    session_factory: Factory,
    bot: Bot,
    fake_tg: FakeTelegram,
    i18n: I18n,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = fake_tg.user(COORDINATOR, language_code="en")
    doctor = fake_tg.user(DOCTOR, language_code="ru")
    fake_tg.group(TEAM)
    ids = await _setup(session_factory, bot)
    before = {m.message_id for m in coordinator.bot_messages()}

    job = RetentionJob(session_factory, timedelta(days=DAYS), i18n=i18n, now=lambda: NOW)
    counts = await job.run()
    assert counts.final_consultations == 1
    assert counts.telegram_edits == 3  # card (once), notice, reminder; not the team line
    await _drain(bot, session_factory, NOW)

    [card] = coordinator.bot_messages()  # the reminder is gone and stays gone
    assert card.message_id == ids["card"] and {card.message_id} <= before
    assert "Consultation 9f1c2d3e — details removed after 30 days" in (card.text or "")
    assert card.reply_markup is None or not card.buttons()
    [notice] = doctor.bot_messages()
    assert "Консультация 9f1c2d3e — данные удалены" in (notice.text or ""), notice.text
    for chat in (COORDINATOR, DOCTOR):
        for message in fake_tg.messages(chat):
            assert NAME not in (message.text or "") and PHONE not in (message.text or "")
    [team] = fake_tg.messages(TEAM)
    assert (team.text or "").startswith("9f1c2d3e: Processed")  # no patient data: left alone
    assert not fake_tg.calls("sendMessage")[4:]  # nothing new was sent by the wipe

    # The next run counts what Telegram refused in its one line (ids and counts only).
    with caplog.at_level(logging.INFO, logger="bot.jobs.retention"):
        again = await RetentionJob(
            session_factory, timedelta(days=DAYS), i18n=i18n,
            now=lambda: NOW + timedelta(days=1),
        ).run()
    assert (again.telegram_edits, again.not_editable) == (0, 1)
    [line] = [r.getMessage() for r in caplog.records if "retention_done" in r.getMessage()]
    assert "telegram_edits=0 not_editable=1" in line and NAME not in line
    async with session_factory() as session:
        wipes = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("scrub:"))
            )
        )
    assert len(wipes) == 3 and sum(w.dead for w in wipes) == 1


async def test_search_texts_leave_conversation_state(session_factory: Factory) -> None:
    """An active user's row is never idle for long, so /find's text is cleared as such."""
    assert (FIND_KEY,) in SEARCH_TEXT_FIELDS
    recent = NOW - timedelta(minutes=5)
    async with session_factory() as session:
        for destiny, data in (
            ("default", f'{{"{FIND_KEY}":"Сидорова","other":1}}'),
            ("aiogd:context:abc", '{"start_data":{"f":"find","q":"+7909"},'
                                  '"dialog_data":{"q":"+7909","f":"find"},"widget_data":{}}'),
        ):
            session.add(FsmRecord(
                bot_id=1, chat_id=COORDINATOR, user_id=COORDINATOR, thread_id=0,
                business_connection_id="", destiny=destiny, state="List:main", data=data,
                updated_at=recent,
            ))
        await session.commit()
    counts = await RetentionJob(session_factory, timedelta(days=DAYS), now=lambda: NOW).run()
    assert counts.search_texts == 2 and counts.conversations == 0
    async with session_factory() as session:
        rows = {r.destiny: r for r in await session.scalars(select(FsmRecord))}
    assert rows["default"].data == '{"other":1}'
    assert "+7909" not in rows["aiogd:context:abc"].data
    assert '"f":"find"' in rows["aiogd:context:abc"].data
    assert rows["default"].updated_at == recent  # clearing is no activity
