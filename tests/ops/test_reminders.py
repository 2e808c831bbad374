"""Reminders: once per recipient across restarts, none for terminated or moved
consultations, texts in the recipient's language and zone.

Every test runs at the fixed "todays" of tests/fixed_days.py (the ``now`` fixture): the
1st of a month, 31 December 23:50 Moscow (a reminder 10 minutes ahead falls at midnight,
in the next year) and 29 February 2028."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.jobs.reminders import ReminderJob
from bot.outbox import OutboxSender
from storage.db import create_engine, create_session_factory
from storage.enums import ConsultationState, EventSource, NotifyMode, Role
from storage.models import Consultation, OutboxMessage
from storage.repositories import ConsultationRepository, StatusEventRepository, UserRepository
from tests.fake_telegram import FakeTelegram
from tests.fixed_days import FIXED_TODAYS, MSK, FixedClock

COORDINATOR = 1001
DOCTOR_ID = 101
DOCTOR_ACCOUNTS = (2001, 2002)
INACTIVE_DOCTOR_ACCOUNT = 2003
OTHER_DOCTOR_ACCOUNT = 2004
LEAD = timedelta(minutes=15)
NSK = ZoneInfo("Asia/Novosibirsk")  # the coordinator's zone, UTC+7


@pytest.fixture(params=FIXED_TODAYS)
def now(request: pytest.FixtureRequest) -> datetime:
    """The jobs' clock reading (aware UTC), one of the fixed todays."""
    moment: datetime = request.param
    return moment.astimezone(UTC)


def shown(at: datetime, tz: ZoneInfo, label: str, now: datetime) -> str:
    """How a reminder shows ``at`` in ``tz``: "HH:MM <zone>", with "DD.MM" before it when
    it is not today there, and the year too when it is not this year there."""
    local, today = at.astimezone(tz), now.astimezone(tz)
    clock = f"{local:%H:%M} {label}"
    if local.date() == today.date():
        return clock
    return f"{local:%d.%m} {clock}" if local.year == today.year else f"{local:%d.%m.%Y} {clock}"

ADMIN_IDS = frozenset({1})

Factory = async_sessionmaker[AsyncSession]


async def _people(session_factory: Factory) -> None:
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(COORDINATOR, Role.COORDINATOR)
        await users.set_language(COORDINATOR, "en")
        await users.set_timezone(COORDINATOR, "Asia/Novosibirsk")  # UTC+7
        for tg in DOCTOR_ACCOUNTS:
            await users.upsert(tg, Role.DOCTOR, doctor_id=DOCTOR_ID)
        # A muted doctor still gets reminders ("everything but reminders and failures").
        await users.set_notify_mode(DOCTOR_ACCOUNTS[1], NotifyMode.MUTED)
        await users.upsert(INACTIVE_DOCTOR_ACCOUNT, Role.DOCTOR, doctor_id=DOCTOR_ID)
        await users.deactivate(INACTIVE_DOCTOR_ACCOUNT)
        await users.upsert(OTHER_DOCTOR_ACCOUNT, Role.DOCTOR, doctor_id=DOCTOR_ID + 1)
        await session.commit()


async def _consultation(
    session_factory: Factory,
    now: datetime,
    token: str,
    begin_at: datetime | None,
    **values: object,
) -> int:
    async with session_factory() as session:
        repo = ConsultationRepository(session)
        row = await repo.create_starting(
            token,
            coordinator_id=COORDINATOR,
            doctor_id=DOCTOR_ID,
            doctor_name="Иванов Иван",
            patient_name="Петров Пётр",
            patient_phone="+79099708593",
            begin_at=begin_at,
            duration_min=20,
            now=now - timedelta(hours=1),
        )
        await repo.bind_partner_id(row.id, f"{token}-0000-partner", now=now)
        await session.execute(
            update(Consultation)
            .where(Consultation.id == row.id)
            .values(**{"last_status": "Registered", **values})
        )
        await session.commit()
        return row.id


def _job(session_factory: Factory, i18n: I18n, now: Callable[[], datetime]) -> ReminderJob:
    return ReminderJob(
        session_factory=session_factory,
        i18n=i18n,
        lead=LEAD,
        default_timezone="Europe/Moscow",
        admin_ids=ADMIN_IDS,
        now=now,
    )


async def _outbox(session_factory: Factory) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_reminded_once_per_recipient_across_restart(
    db_url: str, session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    cid = await _consultation(session_factory, now, "aaaa1111", now + timedelta(minutes=10))

    first = await _job(session_factory, i18n, lambda: now).run()
    assert (first.due, first.reminded, first.queued) == (1, 1, 3)

    # "Restart": a new engine and a new job instance over the same database, a minute later.
    engine = create_engine(db_url)
    try:
        again = _job(create_session_factory(engine), i18n, lambda: now + timedelta(minutes=1))
        second = await again.run()
        third = await again.run()
    finally:
        await engine.dispose()
    assert second.queued == third.queued == 0

    rows = await _outbox(session_factory)
    recipients = sorted(r.chat_id for r in rows)
    assert recipients == sorted([COORDINATOR, *DOCTOR_ACCOUNTS])  # not inactive, not other
    assert {r.dedupe_key for r in rows} == {
        f"remind:{cid}:to:{chat}" for chat in (COORDINATOR, *DOCTOR_ACCOUNTS)
    }
    assert all(r.consultation_id == cid for r in rows)
    async with session_factory() as session:
        consultation = await session.get(Consultation, cid)
        assert consultation is not None and consultation.reminder_sent_at == now


@pytest.mark.parametrize(
    ("role", "doctor_id"),
    [
        (Role.DOCTOR, DOCTOR_ID + 1),  # demoted to another doctor's account
        (Role.ADMIN, None),  # a stored admin whose id is not (any more) in ADMIN_IDS
    ],
)
async def test_no_reminder_to_whoever_lost_the_right(
    session_factory: Factory, i18n: I18n, role: Role, doctor_id: int | None, now: datetime
) -> None:
    """The coordinator's seat is checked at the run, not when the consultation started."""
    await _people(session_factory)
    cid = await _consultation(session_factory, now, "ffff6666", now + timedelta(minutes=10))
    async with session_factory() as session:
        await UserRepository(session).set_role(COORDINATOR, role, doctor_id)
        await session.commit()

    counts = await _job(session_factory, i18n, lambda: now).run()

    assert (counts.reminded, counts.queued) == (1, 2)
    rows = await _outbox(session_factory)
    assert sorted(r.chat_id for r in rows) == sorted(DOCTOR_ACCOUNTS)  # the linked doctors
    assert all(r.consultation_id == cid for r in rows)


async def test_concurrent_runs_remind_once(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    await _consultation(session_factory, now, "bbbb2222", now + timedelta(minutes=5))
    results = await asyncio.gather(
        *(_job(session_factory, i18n, lambda: now).run() for _ in range(3))
    )
    assert sum(r.reminded for r in results) == 1
    assert len(await _outbox(session_factory)) == 3


async def test_texts_in_recipient_language_and_zone(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    begin = now + timedelta(minutes=10)
    await _consultation(session_factory, now, "cccc3333", begin)
    await _job(session_factory, i18n, lambda: now).run()
    texts = {r.chat_id: r.text or "" for r in await _outbox(session_factory)}

    coordinator = texts[COORDINATOR]
    assert shown(begin, NSK, "UTC+7", now) in coordinator, coordinator
    assert "In 10 min" in coordinator and "cccc3333" in coordinator
    assert "Петров Пётр" in coordinator and "Иванов Иван" in coordinator

    doctor = texts[DOCTOR_ACCOUNTS[0]]  # no language chosen: Russian; no zone: Moscow
    assert shown(begin, MSK, "МСК", now) in doctor, doctor
    assert "Через 10 мин" in doctor and "до 20 мин" in doctor


async def test_no_reminder_for_terminated_or_final(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    begin = now + timedelta(minutes=10)
    await _consultation(session_factory, now, "dddd0001", begin, state=ConsultationState.FINAL)
    # Terminated: the last status is final even if the state was not moved yet.
    await _consultation(session_factory, now, "dddd0002", begin, last_status="Unsuccessful")
    await _consultation(session_factory, now, "dddd0003", begin, state=ConsultationState.UNKNOWN)
    counts = await _job(session_factory, i18n, lambda: now).run()
    assert counts.queued == 0
    assert await _outbox(session_factory) == []


async def test_rescheduled_before_the_window_reminds_at_the_new_time(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    cid = await _consultation(session_factory, now, "eeee4444", now + timedelta(minutes=30))
    assert (await _job(session_factory, i18n, lambda: now).run()).due == 0  # not yet

    # Moved to two hours later before its reminder was due.
    new_begin = now + timedelta(hours=2)
    async with session_factory() as session:
        await session.execute(
            update(Consultation).where(Consultation.id == cid).values(begin_at=new_begin)
        )
        await session.commit()
    at_old_time = now + timedelta(minutes=20)  # the old start was 10 minutes away
    assert (await _job(session_factory, i18n, lambda: at_old_time).run()).queued == 0
    assert await _outbox(session_factory) == []

    near_new = new_begin - timedelta(minutes=14)
    counts = await _job(session_factory, i18n, lambda: near_new).run()
    assert counts.queued == 3
    coordinator = next(r for r in await _outbox(session_factory) if r.chat_id == COORDINATOR)
    assert shown(new_begin, NSK, "UTC+7", near_new) in (coordinator.text or "")


async def test_started_at_once_or_already_begun_is_not_reminded(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    await _consultation(session_factory, now, "ffff0001", None)
    await _consultation(session_factory, now, "ffff0002", now - timedelta(minutes=1))
    assert (await _job(session_factory, i18n, lambda: now).run()).queued == 0


async def _booked_at(
    session_factory: Factory, now: datetime, token: str, begin_at: datetime, booked_at: datetime
) -> int:
    """A consultation started (start-callback sent) at ``booked_at``."""
    cid = await _consultation(session_factory, now, token, begin_at)
    async with session_factory() as session:
        await session.execute(
            update(Consultation)
            .where(Consultation.id == cid)
            .values(start_attempted_at=booked_at, created_at=booked_at)
        )
        await session.commit()
    return cid


async def test_booked_in_15_min_gets_no_reminder_right_after_booked(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    """The quick button "in 15 min" sets the start 15–16 min ahead: with a 15-min lead the
    next tick would remind right after "booked". Nobody is reminded, and it stays that way."""
    await _people(session_factory)
    booked = now - timedelta(seconds=30)
    begin = booked + timedelta(minutes=15, seconds=40)
    cid = await _booked_at(session_factory, now, "abab0001", begin, booked)
    tick = now + timedelta(seconds=30)  # the first tick inside the 15-min window
    counts = await _job(session_factory, i18n, lambda: tick).run()
    assert (counts.due, counts.skipped, counts.queued) == (1, 1, 0)
    assert await _outbox(session_factory) == []
    async with session_factory() as session:
        row = await session.get(Consultation, cid)
        assert row is not None and row.reminder_sent_at is not None  # never looked at again
    later = await _job(session_factory, i18n, lambda: now + timedelta(minutes=5)).run()
    assert later.due == 0 and later.queued == 0


async def test_booked_lead_plus_a_few_minutes_ahead_is_reminded(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    booked = now - timedelta(minutes=10)
    begin = now + timedelta(minutes=14)  # booked 24 min ahead
    await _booked_at(session_factory, now, "abab0002", begin, booked)
    counts = await _job(session_factory, i18n, lambda: now).run()
    assert counts.queued == 3


async def test_no_reminder_once_the_call_is_under_way(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    begin = now + timedelta(minutes=10)
    ids = [
        await _consultation(session_factory, now, "acac0001", begin, last_status="Processing"),
        await _consultation(session_factory, now, "acac0002", begin, last_status="PostProcessing"),
    ]
    delayed = await _consultation(session_factory, now, "acac0003", begin, last_status="Delayed")
    await _job(session_factory, i18n, lambda: now).run()
    rows = await _outbox(session_factory)
    assert {r.consultation_id for r in rows} == {delayed}
    assert not any(r.consultation_id in ids for r in rows)


async def _reschedule(session_factory: Factory, old_id: int, new_begin: datetime,
                      at: datetime) -> int:
    """What the card's Reschedule does, through the repositories: the old consultation is
    terminated (an Unsuccessful event from the terminate, state final) and the wizard starts
    a new one with the new time."""
    async with session_factory() as session:
        consultations = ConsultationRepository(session)
        await StatusEventRepository(session).record(
            old_id, "Unsuccessful", at, EventSource.TERMINATE, now=at
        )
        await consultations.set_state(old_id, ConsultationState.FINAL)
        new = await consultations.create_starting(
            "resched-new",
            coordinator_id=COORDINATOR,
            doctor_id=DOCTOR_ID,
            doctor_name="Иванов Иван",
            patient_name="Петров Пётр",
            patient_phone="+79099708593",
            begin_at=new_begin,
            duration_min=20,
            now=at,
        )
        await consultations.bind_partner_id(new.id, "resched-new-0000-partner", now=at)
        await StatusEventRepository(session).record(
            new.id, "Registered", at, EventSource.START, now=at
        )
        await session.commit()
        return new.id


async def test_reschedule_end_to_end_reminds_only_the_new_consultation(
    session_factory: Factory, i18n: I18n, now: datetime
) -> None:
    await _people(session_factory)
    old = await _consultation(session_factory, now, "resched-old", now + timedelta(minutes=30))
    new_begin = now + timedelta(hours=2)
    new = await _reschedule(session_factory, old, new_begin, now + timedelta(minutes=5))

    # The old start's window: it was terminated, nobody hears of it.
    at_old = await _job(session_factory, i18n, lambda: now + timedelta(minutes=20)).run()
    assert (at_old.due, at_old.queued) == (0, 0)
    # The new start's window: its reminder, once per recipient.
    near_new = new_begin - timedelta(minutes=14)
    counts = await _job(session_factory, i18n, lambda: near_new).run()
    assert (counts.reminded, counts.queued) == (1, 3)
    again = await _job(session_factory, i18n, lambda: near_new + timedelta(minutes=1)).run()
    assert again.queued == 0

    rows = await _outbox(session_factory)
    assert {r.consultation_id for r in rows} == {new}
    assert {r.dedupe_key for r in rows} == {
        f"remind:{new}:to:{chat}" for chat in (COORDINATOR, *DOCTOR_ACCOUNTS)
    }


async def test_a_reminder_reaches_telegram_in_the_recipients_zone(
    session_factory: Factory, i18n: I18n, fake_tg: FakeTelegram, bot: Bot, now: datetime
) -> None:
    # The sender's clock at the same day: it claims the rows queued at ``now`` as due.
    outbox = OutboxSender(bot, session_factory, clock=FixedClock(now))
    await _people(session_factory)
    coordinator = fake_tg.user(COORDINATOR, language_code="en")
    doctor = fake_tg.user(DOCTOR_ACCOUNTS[0])
    fake_tg.user(DOCTOR_ACCOUNTS[1])
    begin = now + timedelta(minutes=10)
    await _consultation(session_factory, now, "tgtg0001", begin)
    counts = await _job(session_factory, i18n, lambda: now).run()
    assert counts.queued == 3

    outbox.start()
    outbox.wake()
    try:
        await outbox.drain(30)
    finally:
        await outbox.stop()

    [to_coordinator] = coordinator.bot_messages()
    text = to_coordinator.text or ""
    assert "In 10 min" in text and shown(begin, NSK, "UTC+7", now) in text, text
    assert "tgtg0001" in text
    [to_doctor] = doctor.bot_messages()
    assert "Через 10 мин" in (to_doctor.text or "")
    assert shown(begin, MSK, "МСК", now) in (to_doctor.text or ""), to_doctor.text
    stored = await _outbox(session_factory)
    assert len(stored) == 3 and all(r.sent_at is not None and r.sent_message_id for r in stored)
