from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import EventSource
from storage.models import StatusEvent
from storage.repositories import ConsultationRepository, StatusEventRepository

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def test_record_new_duplicate_and_last_status(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    ev = StatusEventRepository(session)
    c = await repo.create_starting("t", coordinator_id=1, doctor_id=1, now=T0)
    assert await ev.record(c.id, "Registered", T0, EventSource.START, now=T0)
    assert not await ev.record(c.id, "Registered", T0, EventSource.RECONCILE)  # duplicate
    assert await ev.record(c.id, "Processing", T0 + timedelta(minutes=5), EventSource.NOTIFICATION)
    # Older event arriving late (reconcile after a skipped look): stored, last status kept.
    assert await ev.record(c.id, "PreProcessing", T0 + timedelta(minutes=1), EventSource.RECONCILE)
    await session.refresh(c)
    assert (c.last_status, c.last_status_at) == ("Processing", T0 + timedelta(minutes=5))
    events = await ev.list_for(c.id)
    assert [(e.status, e.source) for e in events] == [
        ("Registered", EventSource.START),
        ("PreProcessing", EventSource.RECONCILE),
        ("Processing", EventSource.NOTIFICATION),
    ]
    assert events[0].occurred_at.tzinfo is not None
    assert await ev.known(c.id) == {
        ("Registered", T0),
        ("PreProcessing", T0 + timedelta(minutes=1)),
        ("Processing", T0 + timedelta(minutes=5)),
    }


async def test_list_for_many_reads_each_history_oldest_first(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    ev = StatusEventRepository(session)
    a = await repo.create_starting("a", coordinator_id=1, doctor_id=1, now=T0)
    b = await repo.create_starting("b", coordinator_id=1, doctor_id=1, now=T0)
    quiet = await repo.create_starting("c", coordinator_id=1, doctor_id=1, now=T0)
    await ev.record(b.id, "Processing", T0 + timedelta(minutes=5), EventSource.NOTIFICATION)
    await ev.record(a.id, "Registered", T0, EventSource.START)
    await ev.record(b.id, "Registered", T0, EventSource.START)
    found = await ev.list_for_many([b.id, a.id, quiet.id])
    assert {cid: [e.status for e in events] for cid, events in found.items()} == {
        a.id: ["Registered"],
        b.id: ["Registered", "Processing"],
        quiet.id: [],
    }
    assert [e.id for e in found[b.id]] == [e.id for e in await ev.list_for(b.id)]


async def test_duplicate_event_stored_once_under_concurrency(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as s, s.begin():
        cid = (
            await ConsultationRepository(s).create_starting("t", coordinator_id=1, doctor_id=1)
        ).id

    async def record() -> bool:
        async with session_factory() as s, s.begin():
            return await StatusEventRepository(s).record(
                cid, "Processed", T0, EventSource.NOTIFICATION
            )

    results = await asyncio.gather(*(record() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    async with session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(StatusEvent)) == 1
        c = await ConsultationRepository(s).get(cid)
        assert c is not None and c.last_status == "Processed"
