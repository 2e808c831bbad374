"""The morning digest's storage: the per-user time and once-a-day mark (users), and the
lists and counts it reads from the local copy (``ConsultationDigest``), on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import ConsultationState, EventSource, Role
from storage.models import Consultation, User
from storage.repositories import ConsultationRepository, StatusEventRepository, UserRepository

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
DAY = date(2026, 6, 1)
DOCTOR = 101
OTHER_DOCTOR = 102


async def test_settle_digest_once_per_date_and_never_backwards(session: AsyncSession) -> None:
    users = UserRepository(session)
    await users.upsert(10, Role.COORDINATOR)
    assert await users.settle_digest(10, DAY)
    assert not await users.settle_digest(10, DAY)  # a second caller, the same day
    assert not await users.settle_digest(10, DAY - timedelta(days=1))  # a zone moved west
    assert await users.settle_digest(10, DAY + timedelta(days=1))
    assert not await users.settle_digest(999, DAY)  # no such user


async def test_concurrent_settles_one_winner(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        await UserRepository(session).upsert(10, Role.COORDINATOR)
        await session.commit()

    async def settle() -> bool:
        async with session_factory() as session:
            won = await UserRepository(session).settle_digest(10, DAY)
            await session.commit()
            return won

    assert sorted(await asyncio.gather(*(settle() for _ in range(4)))) == [
        False,
        False,
        False,
        True,
    ]


async def test_set_digest_time_settles_a_passed_day_without_moving_back(
    session: AsyncSession,
) -> None:
    users = UserRepository(session)
    await users.upsert(10, Role.COORDINATOR)
    await users.set_digest_time(10, "08:30", settled_on=DAY)
    user = await session.get(User, 10, populate_existing=True)
    assert user is not None and (user.digest_time, user.digest_last_date) == ("08:30", DAY)

    await users.settle_digest(10, DAY + timedelta(days=1))
    await users.set_digest_time(10, "07:00", settled_on=DAY)  # an older date changes nothing
    await users.set_digest_time(10, "off")
    user = await session.get(User, 10, populate_existing=True)
    assert user is not None
    assert (user.digest_time, user.digest_last_date) == ("off", DAY + timedelta(days=1))


async def test_digest_candidates_skip_off_and_inactive(session: AsyncSession) -> None:
    users = UserRepository(session)
    for tg, role in ((1, Role.ADMIN), (2, Role.COORDINATOR), (3, Role.DOCTOR), (4, Role.DOCTOR)):
        await users.upsert(tg, role, doctor_id=DOCTOR if role is Role.DOCTOR else None)
    await users.set_digest_time(2, "off")
    await users.set_digest_time(3, "07:15")
    await users.deactivate(4)
    assert [u.telegram_id for u in await users.digest_candidates()] == [1, 3]


async def _consultation(
    session: AsyncSession,
    token: str,
    *,
    doctor_id: int = DOCTOR,
    phone: str | None = "+79099708593",
    begin_at: datetime | None = None,
    state: ConsultationState = ConsultationState.ACTIVE,
    created_at: datetime = T0 - timedelta(days=3),
    **values: object,
) -> int:
    repo = ConsultationRepository(session)
    row = await repo.create_starting(
        token,
        coordinator_id=10,
        doctor_id=doctor_id,
        doctor_name="Иванова",
        patient_name="Петров Пётр",
        patient_phone=phone,
        begin_at=begin_at,
        now=created_at,
    )
    if state is not ConsultationState.STARTING:
        await repo.bind_partner_id(row.id, f"{token}-partner", state=state, now=created_at)
    await session.execute(
        update(Consultation).where(Consultation.id == row.id).values(state=state, **values)
    )
    return row.id


async def _ended(session: AsyncSession, token: str, status: str, at: datetime, **kw: object) -> int:
    cid = await _consultation(session, token, **kw)
    source = EventSource.TERMINATE if token.startswith("term") else EventSource.NOTIFICATION
    await StatusEventRepository(session).record(cid, status, at, source)
    await ConsultationRepository(session).set_state(cid, ConsultationState.FINAL)
    return cid


async def test_scheduled_between_open_ones_in_scope_earliest_first(session: AsyncSession) -> None:
    day_end = T0 + timedelta(hours=15)
    late = await _consultation(session, "a-late", begin_at=T0 + timedelta(hours=5))
    early = await _consultation(session, "b-early", begin_at=T0 + timedelta(hours=1))
    other = await _consultation(
        session, "c-other", begin_at=T0 + timedelta(hours=2), doctor_id=OTHER_DOCTOR
    )
    await _consultation(session, "d-tomorrow", begin_at=day_end)
    await _consultation(session, "e-yesterday", begin_at=T0 - timedelta(hours=7))
    await _consultation(
        session, "f-done", begin_at=T0 + timedelta(hours=3), last_status="Processed"
    )
    await _consultation(
        session, "g-unknown", begin_at=T0 + timedelta(hours=3), state=ConsultationState.UNKNOWN
    )
    repo = ConsultationRepository(session)

    everyone = await repo.scheduled_between(T0, day_end, doctor_id=None, limit=10)
    assert [c.id for c in everyone.rows] == [early, other, late] and everyone.total == 3
    own = await repo.scheduled_between(T0, day_end, doctor_id=DOCTOR, limit=1)
    assert [c.id for c in own.rows] == [early] and own.total == 2


async def test_outcomes_between_by_outcome_and_scope(session: AsyncSession) -> None:
    start, end = T0 - timedelta(days=1), T0
    await _ended(session, "p1", "Processed", start + timedelta(hours=2))
    await _ended(session, "p2", "Processed", start + timedelta(hours=3), doctor_id=OTHER_DOCTOR)
    await _ended(session, "u1", "Unsuccessful", start + timedelta(hours=4))
    await _ended(session, "term1", "Unsuccessful", start + timedelta(hours=5))
    await _ended(session, "p-before", "Processed", start - timedelta(minutes=1))
    await _ended(session, "p-after", "Processed", end)  # the next day's
    await _consultation(session, "open", last_status="Processing", last_status_at=start)
    repo = ConsultationRepository(session)

    everyone = await repo.outcomes_between(start, end, doctor_id=None)
    assert (everyone.processed, everyone.unsuccessful, everyone.terminated) == (2, 1, 1)
    assert everyone.total == 4
    other = await repo.outcomes_between(start, end, doctor_id=OTHER_DOCTOR)
    assert (other.processed, other.unsuccessful, other.terminated) == (1, 0, 0)
    nobody = await repo.outcomes_between(start, end, doctor_id=999)
    assert nobody.total == 0


async def test_stuck_unknown_oldest_first(session: AsyncSession) -> None:
    newer = await _consultation(
        session, "n", state=ConsultationState.UNKNOWN, created_at=T0 - timedelta(hours=1)
    )
    older = await _consultation(
        session, "o", state=ConsultationState.UNKNOWN, created_at=T0 - timedelta(hours=2)
    )
    await _consultation(session, "x", state=ConsultationState.UNKNOWN, doctor_id=OTHER_DOCTOR)
    await _consultation(session, "a", state=ConsultationState.ACTIVE)
    listed = await ConsultationRepository(session).stuck_unknown(doctor_id=DOCTOR, limit=5)
    assert [c.id for c in listed.rows] == [older, newer] and listed.total == 2


async def test_unsuccessful_not_repeated(session: AsyncSession) -> None:
    since = T0 - timedelta(days=1)
    failed_at = since + timedelta(hours=3)
    created = since
    lonely = await _ended(
        session, "u-lonely", "Unsuccessful", failed_at, phone="+70000000001", created_at=created
    )
    await _ended(
        session,
        "u-repeated",
        "Unsuccessful",
        failed_at,
        phone="+70000000002",
        created_at=created,
    )
    # Repeated with another doctor, an hour later: not listed.
    await _consultation(
        session,
        "again",
        phone="+70000000002",
        doctor_id=OTHER_DOCTOR,
        created_at=created + timedelta(hours=4),
    )
    # A later start that never happened is no repeat.
    failed_retry = await _ended(
        session,
        "u-retry-failed",
        "Unsuccessful",
        failed_at,
        phone="+70000000003",
        created_at=created,
    )
    await _consultation(
        session,
        "retry",
        phone="+70000000003",
        state=ConsultationState.FAILED,
        created_at=created + timedelta(hours=4),
    )
    no_phone = await _ended(
        session,
        "u-nophone",
        "Unsuccessful",
        failed_at + timedelta(minutes=1),
        phone=None,
        created_at=created,
    )
    await _ended(  # terminated on purpose: nobody needs to repeat it
        session, "term-u", "Unsuccessful", failed_at, phone="+70000000004", created_at=created
    )
    await _ended(  # before the window
        session,
        "u-old",
        "Unsuccessful",
        since - timedelta(minutes=1),
        phone="+70000000005",
        created_at=created - timedelta(days=1),
    )
    repo = ConsultationRepository(session)
    listed = await repo.unsuccessful_not_repeated(since, doctor_id=None, limit=10)
    assert sorted(c.id for c in listed.rows) == sorted([lonely, failed_retry, no_phone])
    assert listed.total == 3
    assert (
        await repo.unsuccessful_not_repeated(since, doctor_id=OTHER_DOCTOR, limit=10)
    ).total == 0
