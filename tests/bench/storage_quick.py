"""Quick storage figures for issue 3 (not part of the test run).

    .venv/bin/python -m tests.bench.storage_quick [--runs 5]

SQLite (temp file) always; PostgreSQL too when TEST_POSTGRES_URL is set (a scratch
database is created and dropped). Each figure is the median of the runs, each run on a
fresh migrated database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from storage.db import create_engine, create_session_factory
from storage.enums import ConsultationState, Origin
from storage.hashing import hash_secret
from storage.migrate import upgrade
from storage.models import Consultation
from storage.repositories import ConsultationRepository, OutboxRepository
from storage.repositories.consultations import name_search_key

N_OUTBOX = 1_000
N_CONSULTATIONS = 10_000
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SURNAMES = ["Иванов", "Петрова", "Сидоров", "Кузнецова", "Smith", "Попов", "Лебедева"]

Figures = dict[str, float]


async def _timed(fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fn()
    return (time.perf_counter() - start) * 1000


async def _analyze(factory: async_sessionmaker[AsyncSession]) -> None:
    # A table filled in one go has no planner statistics until autovacuum's ANALYZE
    # (seconds later in production); without them PostgreSQL picks an O(n^2) plan for the
    # claim's per-chat ordering check, which no long-running deployment would see.
    async with factory() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(text("ANALYZE"))


async def _outbox(factory: async_sessionmaker[AsyncSession], figures: Figures) -> None:
    async def enqueue() -> None:
        async with factory() as s, s.begin():
            out = OutboxRepository(s)
            for i in range(N_OUTBOX):
                await out.enqueue(i % 100, f"message {i}", dedupe_key=f"k{i}", now=T0)

    figures["outbox: enqueue 1,000 (one tx), ms"] = await _timed(enqueue)
    await _analyze(factory)

    async def claim_one_go() -> None:
        async with factory() as s, s.begin():
            rows = await OutboxRepository(s).claim_due(T0, N_OUTBOX, timedelta(seconds=30))
        assert len(rows) == N_OUTBOX

    figures["outbox: claim 1,000 in one statement, ms"] = await _timed(claim_one_go)

    async def claim_batches() -> None:
        now = T0 + timedelta(minutes=1)  # leases above have expired
        claimed = 0
        while True:
            async with factory() as s, s.begin():
                out = OutboxRepository(s)
                rows = await out.claim_due(now, 50, timedelta(seconds=30))
                for m in rows:
                    await out.mark_sent(m.id, m.id, now=now)
            if not rows:
                break
            claimed += len(rows)
        assert claimed == N_OUTBOX

    figures["outbox: claim+mark_sent 1,000 in batches of 50, ms"] = await _timed(claim_batches)


async def _consultations(factory: async_sessionmaker[AsyncSession], figures: Figures) -> None:
    async def insert() -> None:
        async with factory() as s, s.begin():
            rows = []
            for i in range(N_CONSULTATIONS):
                name = f"{SURNAMES[i % len(SURNAMES)]}{i // len(SURNAMES)} Тест"
                final = i % 3 == 0
                rows.append(
                    Consultation(
                        token_hash=hash_secret(f"tok{i}"),
                        partner_id=str(uuid.UUID(int=i + 1)),
                        state=ConsultationState.FINAL if final else ConsultationState.ACTIVE,
                        origin=Origin.BOT,
                        coordinator_id=1000 + i % 20,
                        doctor_id=100 + i % 50,
                        doctor_name="Доктор",
                        patient_name=name,
                        patient_name_search=name_search_key(name),
                        patient_phone=f"+7909{i:07d}",
                        last_status="Processed" if final else "Registered",
                        last_status_at=T0,
                        needs_refresh=False,
                        created_at=T0 + timedelta(seconds=i),
                        updated_at=T0,
                    )
                )
            s.add_all(rows)
            await s.flush()

    figures["consultations: insert 10,000 (one tx), ms"] = await _timed(insert)
    await _analyze(factory)

    async def insert_repo_100() -> None:
        async with factory() as s, s.begin():
            repo = ConsultationRepository(s)
            for i in range(100):
                await repo.create_starting(
                    f"new{i}",
                    coordinator_id=1,
                    doctor_id=1,
                    patient_name="Новиков Н",
                    patient_phone="+79001234567",
                )

    figures["consultations: create_starting x100 (one tx), ms"] = await _timed(insert_repo_100)

    async def query(name: str, fn: Callable[[ConsultationRepository], Awaitable[object]]) -> None:
        async def run() -> None:
            async with factory() as s:
                await fn(ConsultationRepository(s))

        figures[name] = await _timed(run)

    await query("query: search by phone (suffix), ms", lambda r: r.search("909 000 12 34"))
    await query("query: search by surname (Cyrillic), ms", lambda r: r.search("петрова1"))
    await query(
        "query: list_for_doctor page 3 + total, ms",
        lambda r: r.list_for_doctor(107, ["Registered"], limit=10, offset=20),
    )
    await query(
        "query: list_for_doctor by status, ms",
        lambda r: r.list_for_doctor(107, order="status", limit=10),
    )
    await query("query: by_token, ms", lambda r: r.by_token("tok5000"))

    async def scan(repo: ConsultationRepository) -> None:
        n = 0
        async for batch in repo.non_final_batches(40):
            n += len(batch)
        assert n >= N_CONSULTATIONS * 2 // 3 - 1

    await query("query: non_final_batches full scan (~6,700 rows, 40/batch), ms", scan)

    async def hooks_then_take() -> None:
        async with factory() as s, s.begin():
            repo = ConsultationRepository(s)
            for i in range(1, 1000, 3):
                await repo.mark_needs_refresh(f"tok{i}")
        async with factory() as s, s.begin():
            assert len(await ConsultationRepository(s).take_needing_refresh(1000)) == 333

    figures["refresh: 333 mark_needs_refresh + take, ms"] = await _timed(hooks_then_take)


async def _one_run(url: str) -> Figures:
    await upgrade(url)
    engine = create_engine(url)
    figures: Figures = {}
    try:
        factory = create_session_factory(engine)
        await _outbox(factory, figures)
        await _consultations(factory, figures)
    finally:
        await engine.dispose()
    return figures


async def _admin(url: str, sql: str) -> None:
    eng = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with eng.connect() as c:
            await c.execute(text(sql))
    finally:
        await eng.dispose()


async def bench(backend: str, runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for _ in range(runs):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as d:
                figures = await _one_run(f"sqlite+aiosqlite:///{Path(d) / 'bench.db'}")
        else:
            base = os.environ["TEST_POSTGRES_URL"]
            name = f"storage_bench_{uuid.uuid4().hex[:10]}"
            await _admin(base, f'CREATE DATABASE "{name}"')
            try:
                url = make_url(base).set(database=name).render_as_string(hide_password=False)
                figures = await _one_run(url)
            finally:
                await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for k, v in figures.items():
            results.setdefault(k, []).append(v)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])
    table = {b: await bench(b, args.runs) for b in backends}
    names = list(next(iter(table.values())))
    width = max(len(n) for n in names)
    print(f"median of {args.runs} runs")
    print(f"{'figure':<{width}}  " + "  ".join(f"{b:>10}" for b in backends))
    for n in names:
        cells = "  ".join(f"{statistics.median(table[b][n]):>10.1f}" for b in backends)
        print(f"{n:<{width}}  {cells}")
    if "postgresql" not in backends:
        print("(PostgreSQL skipped: TEST_POSTGRES_URL not set)")


if __name__ == "__main__":
    asyncio.run(main())
