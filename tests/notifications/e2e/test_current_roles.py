"""Pushes follow people's roles as they are now (issue 11), with the production wiring: the
runtime's notifications component, the reminders job, the outbox sender and the dispatcher
polling the fake Telegram.

A consultation keeps its ``coordinator_id`` after that coordinator is demoted, and a stored
admin row outlives the id's place in ADMIN_IDS: neither may keep hearing about the patient.

"Heard nothing" is read from the outbox: whatever the coordinator would have been told is
queued in the same transaction as the doctor's (or the team chat's) message waited for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.jobs.reminders import ReminderJob
from bot.services.alerts import alert_insufficient_funds
from storage.enums import Role
from storage.models import Consultation, OutboxMessage
from storage.repositories import UserRepository
from tests.bot_fixtures import ADMIN_ID
from tests.notifications.e2e.conftest import Live
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, DOCTOR_ID, PATIENT, TEAM_CHAT

FORMER_ADMIN = 3001  # stored role=admin, no longer in ADMIN_IDS ("1")


def _body(text: str) -> str:
    return text.split("\n\n🧪", 1)[0]


async def _settle(live: Live) -> None:
    await live.parts.worker.run_once()
    await live.running.outbox.drain(10)


async def _queued_to(live: Live, chat_id: int) -> list[OutboxMessage]:
    async with live.harness.session_factory() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))
        return list(rows)


async def _set_role(live: Live, telegram_id: int, role: Role, doctor_id: int | None) -> None:
    async with live.harness.session_factory() as session:
        await UserRepository(session).set_role(telegram_id, role, doctor_id)
        await session.commit()


async def _booked_an_hour_ago(live: Live, partner_id: str) -> None:
    """A reminder is not sent for a booking made within its lead (nothing new to say)."""
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    async with live.harness.session_factory() as session:
        await session.execute(
            update(Consultation)
            .where(Consultation.partner_id == partner_id)
            .values(start_attempted_at=hour_ago, created_at=hour_ago)
        )
        await session.commit()


def _reminders(live: Live) -> ReminderJob:
    return ReminderJob(
        session_factory=live.harness.session_factory,
        i18n=live.harness.i18n,
        lead=timedelta(minutes=15),
        default_timezone="Europe/Moscow",
        admin_ids=live.running.settings.admin_ids,
        outbox_wake=live.running.outbox.wake,
    )


async def test_demoted_coordinator_hears_nothing_while_the_linked_doctor_does(
    live: Live,
) -> None:
    await live.harness.add_users()
    begin = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    _, partner_id = await live.harness.start(begin_at=begin)
    await live.sandbox.notify(partner_id)  # the first look announces the booking
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 1)

    # Demoted to a doctor of another partner doctor: still the consultation's coordinator_id.
    await _set_role(live, COORDINATOR, Role.DOCTOR, DOCTOR_ID + 1)

    await _booked_an_hour_ago(live, partner_id)
    counts = await _reminders(live).run()
    assert (counts.reminded, counts.queued) == (1, 1)  # the doctor only
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 2)

    await live.sandbox.set_status(partner_id, "Unsuccessful")  # failures reach everyone
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 3)
    await _settle(live)

    assert await _queued_to(live, COORDINATOR) == []
    assert live.texts(COORDINATOR) == []
    booked, reminder, failed = [_body(t) for t in live.texts(DOCTOR_ACCOUNT)]
    assert booked.startswith("🗓 A consultation is booked with you")
    assert reminder.startswith("⏰ In ") and "you have consultation" in reminder
    assert PATIENT in failed


async def test_coordinator_demoted_then_promoted_back_hears_again(live: Live) -> None:
    await live.harness.add_users()
    begin = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    _, partner_id = await live.harness.start(begin_at=begin)
    await live.sandbox.notify(partner_id)
    await live.tg.wait_for_messages(TEAM_CHAT, 1)

    await _set_role(live, COORDINATOR, Role.DOCTOR, DOCTOR_ID + 1)
    await live.sandbox.set_status(partner_id, "Delayed", "PreProcessing", "Processing")
    await live.tg.wait_for_messages(TEAM_CHAT, 4)
    await _settle(live)
    assert await _queued_to(live, COORDINATOR) == []  # no "the call started"

    await _set_role(live, COORDINATOR, Role.COORDINATOR, None)
    await live.sandbox.set_status(partner_id, "PostProcessing", "Processed")
    (finished,) = await live.tg.wait_for_messages(COORDINATOR, 1)
    sid = partner_id.split("-")[0]
    assert _body(finished.content).startswith(f"✅ Консультация {sid} завершена")


async def test_admin_removed_from_admin_ids_gets_no_push_and_no_alert(live: Live) -> None:
    await live.harness.add_users()
    live.tg.user(FORMER_ADMIN, first_name="Бывший", language_code="ru")
    async with live.harness.session_factory() as session:
        await UserRepository(session).upsert(FORMER_ADMIN, Role.ADMIN, display_name="Бывший")
        await session.commit()
    # The listed admin has talked to the bot (the dispatcher stores their row).
    await live.tg.user(ADMIN_ID, first_name="Админ", language_code="ru").send_command("help")

    begin = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    _, by_former = await live.harness.start(begin_at=begin, coordinator_id=FORMER_ADMIN)
    _, by_admin = await live.harness.start(begin_at=begin, coordinator_id=ADMIN_ID)
    for partner_id in (by_former, by_admin):
        await live.sandbox.notify(partner_id)
        await live.sandbox.set_status(partner_id, "Unsuccessful")
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 4)  # booked + failed, twice
    await _settle(live)

    async with live.harness.session_factory() as session:
        assert await alert_insufficient_funds(
            session, live.running.settings, i18n=live.harness.i18n
        ) == 1
        await session.commit()

    assert await _queued_to(live, FORMER_ADMIN) == []
    # The listed admin, in the coordinator's seat of their own consultation, still hears it
    # (ADMIN_IDS reached the status processor), and gets the alert.
    to_admin = [r.text or "" for r in await _queued_to(live, ADMIN_ID)]
    assert any(PATIENT in t for t in to_admin), to_admin
    assert any("недостаточно средств" in t for t in to_admin), to_admin
