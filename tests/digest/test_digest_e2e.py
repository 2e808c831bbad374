"""The morning digest end to end: the job on the injected clock, the outbox delivering to the
fake Bot API, a restart (a new process on the same database), two replicas, and the
send-time check of the reader's right.

"Delivered" is what the fake Telegram shows in the reader's chat; a digest is one message
starting with ☀️ (the sandbox adds its demo mark after it)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete

from bot.jobs.lease import JobLeases
from bot.jobs.retention import RetentionJob
from storage.db import create_engine, create_session_factory
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories import ConsultationRepository, UserRepository
from tests.bot_fixtures import ADMIN_ID
from tests.digest.conftest import NSK, World, msk
from tests.fixed_days import FIXED_TODAYS

MOSCOW_COORDINATOR = 8001
NSK_COORDINATOR = 8002  # Novosibirsk, UTC+7: 09:00 there is 05:00 in Moscow
DOCTOR = 8003  # off by default
TURNED_OFF = 8004
EARLY = 8005  # 07:00


async def _people(world: World) -> None:
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    await world.person(NSK_COORDINATOR, Role.COORDINATOR, lang="en", zone=NSK.key)
    await world.person(DOCTOR, Role.DOCTOR, doctor_id=101)
    await world.person(TURNED_OFF, Role.COORDINATOR, digest_time="off")
    await world.person(ADMIN_ID, Role.ADMIN, zone="Europe/Moscow")


def _counts(world: World) -> dict[int, int]:
    people = (MOSCOW_COORDINATOR, NSK_COORDINATOR, DOCTOR, TURNED_OFF, ADMIN_ID)
    return {p: len(world.digests(p)) for p in people}


@pytest.mark.parametrize("today", FIXED_TODAYS)
async def test_once_at_each_readers_local_time(world: World, today: datetime) -> None:
    await _people(world)
    nine_nsk = datetime.combine(today.date(), datetime.min.time(), tzinfo=NSK) + timedelta(hours=9)
    async with world.running() as app:
        assert (await app.tick(nine_nsk - timedelta(seconds=30))).due == 0  # not before
        assert (await app.tick(nine_nsk)).queued == 1
        assert _counts(world)[NSK_COORDINATOR] == 1
        assert sum(_counts(world).values()) == 1  # 05:00 in Moscow: nobody else yet

        assert (await app.tick(msk(today, 8, 59) + timedelta(seconds=30))).queued == 0
        assert (await app.tick(msk(today, 9, 0))).queued == 2  # Moscow's coordinator, admin
        for later in ((9, 1), (10, 0), (11, 59)):
            assert (await app.tick(msk(today, *later))).queued == 0

    assert _counts(world) == {
        MOSCOW_COORDINATOR: 1,
        NSK_COORDINATOR: 1,
        ADMIN_ID: 1,
        DOCTOR: 0,
        TURNED_OFF: 0,
    }
    (nsk_digest,) = world.digests(NSK_COORDINATOR)
    weekday = f"{today:%A, %B} {today.day}, {today.year}"
    assert nsk_digest.startswith(f"☀️ <b>Digest for {weekday}</b>"), nsk_digest
    assert world.digests(MOSCOW_COORDINATOR)[0].startswith("☀️ <b>Сводка на ")
    # Each went to the reader's own private chat, once, protected from forwarding.
    rows = await world.digest_rows()
    day = today.date().isoformat()
    assert sorted((r.chat_id, r.dedupe_key) for r in rows) == sorted(
        (p, f"digest:{p}:{day}") for p in (MOSCOW_COORDINATOR, NSK_COORDINATOR, ADMIN_ID)
    )
    assert all(r.chat_id > 0 and r.sent_at is not None for r in rows)
    delivered = [m for p in (MOSCOW_COORDINATOR, NSK_COORDINATOR) for m in world.tg.bot_messages(p)]
    assert delivered and all(m.protected for m in delivered)


async def test_not_again_after_a_restart_and_again_the_next_day(world: World) -> None:
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    today = world.clock()
    async with world.running() as first:
        assert (await first.tick(msk(today, 9, 0))).queued == 1

    # A restart: a new engine, dispatcher, outbox sender and job on the same database.
    async with world.running() as second:
        for at in ((9, 0), (9, 1), (10, 30), (11, 59)):
            assert (await second.tick(msk(today, *at))).queued == 0
        assert len(world.digests(MOSCOW_COORDINATOR)) == 1
        assert (await second.tick(msk(today, 24 + 9, 0))).queued == 1  # tomorrow's
    assert len(world.digests(MOSCOW_COORDINATOR)) == 2
    keys = [r.dedupe_key for r in await world.digest_rows()]
    assert keys == [
        f"digest:{MOSCOW_COORDINATOR}:2026-06-01",
        f"digest:{MOSCOW_COORDINATOR}:2026-06-02",
    ]


async def test_a_start_after_the_time_sends_within_three_hours_only(world: World) -> None:
    """The bot was down over the morning: started at 10:30, it sends the 09:00 digest
    (90 minutes late) but not the 07:00 one (3.5 hours late: the morning is over)."""
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    await world.person(EARLY, Role.COORDINATOR, digest_time="07:00")
    today = world.clock()
    async with world.running() as app:
        counts = await app.tick(msk(today, 10, 30))
    assert (counts.due, counts.queued) == (1, 1)
    assert len(world.digests(MOSCOW_COORDINATOR)) == 1
    assert world.digests(EARLY) == []


async def test_once_even_when_retention_cleared_the_outbox(world: World) -> None:
    """The once-a-day mark is the reader's row, not the outbox row: a retention run that
    clears the digest's text, or an outbox row deleted by hand, sends nothing twice."""
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    today = world.clock()
    async with world.running() as app:
        await app.tick(msk(today, 9, 0))
        retention = RetentionJob(
            session_factory=world.session_factory, retention=timedelta(0), now=world.clock
        )
        assert (await retention.run()).other_messages == 1
        (row,) = await world.digest_rows()
        assert row.text is None  # cleared
        assert (await app.tick(msk(today, 9, 30))).queued == 0
        async with world.session_factory() as session:
            await session.execute(delete(OutboxMessage))
            await session.commit()
        assert (await app.tick(msk(today, 10, 0))).queued == 0
    assert len(world.digests(MOSCOW_COORDINATOR)) == 1


async def test_two_replicas_send_one_digest(world: World) -> None:
    """Two replicas tick at the same moment: under their job leases one runs; and even
    two passes at once (a pass outliving its lease) settle the day once."""
    for telegram_id in (MOSCOW_COORDINATOR, NSK_COORDINATOR):
        await world.person(telegram_id, Role.COORDINATOR)
    world.at(msk(world.clock(), 9, 0))
    engines = [create_engine(world.db_url) for _ in range(2)]
    try:
        factories = [create_session_factory(e) for e in engines]
        async with world.running() as app:
            jobs = [world.job(f, app.outbox.wake) for f in factories]
            leased = [
                JobLeases(f, holder=f"replica-{i}", now=world.clock).guard(
                    job.run, "digest", timedelta(minutes=1)
                )
                for i, (f, job) in enumerate(zip(factories, jobs, strict=True))
            ]
            results = await asyncio.gather(*(run() for run in leased))
            assert sorted(r.queued if r else -1 for r in results) == [-1, 2]  # one skipped

            world.at(msk(world.clock(), 24 + 9, 0))  # the next day, no leases
            unleased = await asyncio.gather(*(job.run() for job in jobs))
            assert sum(r.queued for r in unleased) == 2
            await app.outbox.drain(15)
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(world.digests(MOSCOW_COORDINATOR)) == len(world.digests(NSK_COORDINATOR)) == 2
    assert len(await world.digest_rows()) == 4


async def test_reader_demoted_before_the_send_gets_nothing(world: World) -> None:
    """Queued with a coordinator's breadth; made a doctor before the outbox sent it: the
    sender re-checks and drops it (the whole account's day is no doctor's)."""
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    world.at(msk(world.clock(), 9, 0))
    job = world.job(world.session_factory, lambda: None)  # no outbox running yet
    assert (await job.run()).queued == 1
    async with world.session_factory() as session:
        await UserRepository(session).set_role(MOSCOW_COORDINATOR, Role.DOCTOR, 101)
        await session.commit()
    async with world.running() as app:
        await app.outbox.drain(15)
    (row,) = await world.digest_rows()
    assert row.dead and row.sent_at is None and row.last_error == "recipient_no_access"
    assert world.digests(MOSCOW_COORDINATOR) == []


async def test_retention_wipes_telegrams_copy_of_an_old_digest(world: World) -> None:
    """Telegram keeps what the bot sent: RETENTION_DAYS after a digest, its message is
    edited down to one line without patient names (and its stored text cleared)."""
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    today = world.clock()
    async with world.session_factory() as session:
        repo = ConsultationRepository(session)
        row = await repo.create_starting(
            "digest-wipe",
            coordinator_id=MOSCOW_COORDINATOR,
            doctor_id=101,
            doctor_name="Иванова Мария",
            patient_name="Смирнова Ольга",
            patient_phone="+79857776655",
            begin_at=msk(today, 11),
            now=msk(today, -24),
        )
        await repo.bind_partner_id(row.id, "5e1f2a3b-0000-partner", now=msk(today, -24))
        await session.commit()
    async with world.running() as app:
        await app.tick(msk(today, 9, 0))
        (digest,) = world.digests(MOSCOW_COORDINATOR)
        assert "<code>5e1f2a3b</code> · Смирнова Ольга" in digest

        world.at(msk(today, 29 * 24 + 12))  # 29 days on: not yet
        retention = RetentionJob(
            session_factory=world.session_factory,
            retention=timedelta(days=30),
            i18n=world.i18n,
            outbox_wake=app.outbox.wake,
            now=world.clock,
        )
        assert (await retention.run()).telegram_edits == 0
        world.at(msk(today, 30 * 24 + 12))
        counts = await retention.run()
        assert (counts.telegram_edits, counts.other_messages) == (1, 1)
        await app.outbox.drain(15)
        assert (await retention.run()).telegram_edits == 0  # done once

    (message,) = world.tg.bot_messages(MOSCOW_COORDINATOR)
    assert (message.text or "").startswith("☀️ Утренняя сводка — данные удалены через 30 дн.")
    assert "Смирнова" not in (message.text or "")
    rows = await world.digest_rows()
    assert rows[0].text is None
