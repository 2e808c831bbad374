"""Pushes follow the recipient's Telegram language until /language sets one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.jobs.reminders import ReminderJob
from storage.enums import Role
from storage.models import Consultation
from storage.repositories import InviteRepository, UserRepository
from tests.notifications.e2e.conftest import Live
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, DOCTOR_ID


def _body(text: str) -> str:
    return text.split("\n\n🧪", 1)[0]


async def test_doctor_with_english_telegram_gets_pushes_in_english(live: Live) -> None:
    sf = live.harness.session_factory
    code = "doctor-invite-code-1"
    async with sf() as session:
        users = UserRepository(session)
        await users.upsert(COORDINATOR, Role.COORDINATOR, display_name="Анна")
        await users.set_language(COORDINATOR, "ru")
        await InviteRepository(session).create(
            code, Role.DOCTOR, created_by=1, ttl=timedelta(hours=1), doctor_id=DOCTOR_ID
        )
        await session.commit()
    # The doctor's Telegram is English (the live fixture); they join and never run /language.
    doctor = live.tg.user(DOCTOR_ACCOUNT)
    await doctor.send_command("start", code)
    async with sf() as session:
        row = await UserRepository(session).get(DOCTOR_ACCOUNT)
        assert row is not None and row.role is Role.DOCTOR
        assert (row.language, row.telegram_language) == (None, "en")
    before = len(live.texts(DOCTOR_ACCOUNT))

    begin = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    _, partner_id = await live.harness.start(begin_at=begin)
    await live.sandbox.notify(partner_id)  # the first look announces the booking
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, before + 1)
    # Booked an hour ago: one booked within the lead is not reminded (nothing new to say).
    async with sf() as session:
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        await session.execute(
            update(Consultation)
            .where(Consultation.partner_id == partner_id)
            .values(start_attempted_at=hour_ago, created_at=hour_ago)
        )
        await session.commit()

    reminders = ReminderJob(
        session_factory=sf,
        i18n=live.harness.i18n,
        lead=timedelta(minutes=15),
        default_timezone="Europe/Moscow",
        admin_ids=live.running.settings.admin_ids,
        outbox_wake=live.running.outbox.wake,
    )
    assert (await reminders.run()).reminded == 1
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, before + 2)

    await live.sandbox.set_status(partner_id, "Unsuccessful")
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, before + 3)

    booked, reminder, failed = [_body(t) for t in live.texts(DOCTOR_ACCOUNT)[before:]]
    sid = partner_id.split("-")[0]
    assert booked.startswith(f"🗓 A consultation is booked with you: {sid}"), booked
    assert reminder.startswith("⏰ In "), reminder
    assert failed.startswith(f"❌ Consultation {sid}"), failed
    # The demo mark of these outbox rows follows the same language.
    assert all("DEMO" in t and "ДЕМО" not in t for t in live.texts(DOCTOR_ACCOUNT)[before:])
    # The coordinator chose Russian: the same change reaches them in Russian.
    assert any("не состоялась" in _body(t) for t in live.texts(COORDINATOR))
