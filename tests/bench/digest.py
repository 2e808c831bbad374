"""The morning digest job's pass (not part of the test run).

    .venv/bin/python -m tests.bench.digest [--runs 3] [--readers 400]

SQLite (temp file): 10,000 consultations over 30 days around "today" (about 330 a day,
20 doctors: scheduled, finished, failed, a few unknown), and ``--readers`` members half
coordinators, half doctors, all with a 09:00 Moscow digest. Two passes of the job, each
the median of the runs: an idle tick (08:59, nobody due: what every minute costs) and the
09:00 pass that builds, renders and queues every reader's digest (a fresh day each run).
The job ticks every minute, so the 09:00 pass has to stay well under one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.jobs.digest import DigestJob
from storage.enums import ConsultationState, EventSource, Origin, Role
from storage.models import Consultation, OutboxMessage, StatusEvent, User
from storage.repositories import UserRepository
from tests.bench.common import (
    machine_note,
    median,
    print_table,
    quiet_logging,
    ratio,
    rss_mb,
    temp_db,
    timed,
)
from tests.fixed_days import MSK

N_CONSULTATIONS = 10_000
N_DOCTORS = 20
DAY0 = datetime(2026, 6, 1, tzinfo=MSK)  # the first "today"; each run is a day later


async def _seed(factory: async_sessionmaker[AsyncSession], readers: int) -> None:
    rng = random.Random(7)
    start = DAY0.astimezone(UTC) - timedelta(days=20)
    async with factory() as session:
        rows: list[Consultation] = []
        for i in range(N_CONSULTATIONS):
            created = start + timedelta(minutes=rng.randrange(30 * 24 * 60))
            kind = rng.random()
            final = created < DAY0.astimezone(UTC) and kind < 0.8
            status = ("Processed" if kind < 0.6 else "Unsuccessful") if final else "Registered"
            rows.append(
                Consultation(
                    partner_id=f"{i:08x}-bench",
                    state=ConsultationState.UNKNOWN
                    if kind > 0.998
                    else (ConsultationState.FINAL if final else ConsultationState.ACTIVE),
                    origin=Origin.BOT,
                    coordinator_id=1_000 + i % max(1, readers // 2),
                    doctor_id=100 + i % N_DOCTORS,
                    doctor_name=f"Доктор {i % N_DOCTORS}",
                    patient_name=f"Пациент {i}",
                    patient_phone=f"+7909{i % 3000:07d}",
                    begin_at=created + timedelta(hours=rng.randrange(1, 48)),
                    last_status=status,
                    last_status_at=created + timedelta(hours=1),
                    created_at=created,
                    updated_at=created,
                )
            )
        session.add_all(rows)
        await session.flush()
        session.add_all(
            StatusEvent(
                consultation_id=row.id,
                status=row.last_status or "Registered",
                occurred_at=row.last_status_at or row.created_at,
                source=EventSource.TERMINATE if row.id % 9 == 0 else EventSource.RECONCILE,
            )
            for row in rows
            if row.last_status == "Unsuccessful"
        )
        users = UserRepository(session)
        for k in range(readers):
            doctor = k % 2 == 1
            telegram_id = 1_000 + k // 2 if not doctor else 50_000 + k
            await users.upsert(
                telegram_id,
                Role.DOCTOR if doctor else Role.COORDINATOR,
                doctor_id=100 + k % N_DOCTORS if doctor else None,
            )
            await users.set_digest_time(telegram_id, "09:00")
        await session.commit()


async def _reset(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as session:
        await session.execute(update(User).values(digest_last_date=None))
        await session.execute(delete(OutboxMessage))
        await session.commit()


async def main(runs: int, readers: int) -> None:
    quiet_logging()
    i18n = I18n()
    idle: list[float] = []
    busy: list[float] = []
    queued = 0
    peak = 0.0
    async with temp_db() as (_, factory):
        await _seed(factory, readers)
        for run in range(runs):
            day = DAY0 + timedelta(days=run)
            await _reset(factory)

            def job(at: datetime) -> DigestJob:
                return DigestJob(
                    session_factory=factory,
                    i18n=i18n,
                    default_timezone="Europe/Moscow",
                    admin_ids=(),
                    now=lambda: at.astimezone(UTC),
                )

            seconds, _ = await timed(job(day + timedelta(hours=8, minutes=59)).run)
            idle.append(seconds * 1000)
            seconds, counts = await timed(job(day + timedelta(hours=9)).run)
            busy.append(seconds * 1000)
            queued = counts.queued
            peak = max(peak, rss_mb())
    base = median(idle)
    print_table(
        f"digest job pass, {readers} readers, {N_CONSULTATIONS:,} consultations "
        f"(median of {runs}; {machine_note()})",
        ["pass", "ms", "per reader ms", "ratio vs idle tick"],
        [
            ["08:59 idle tick (nobody due)", base, base / readers, ratio(base, base)],
            [
                f"09:00 ({queued} digests queued)",
                median(busy),
                median(busy) / readers,
                ratio(median(busy), base),
            ],
        ],
    )
    print(f"peak RSS of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--readers", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.readers))
