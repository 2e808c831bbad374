"""Migration 0003 marks consultations already looked at as announced (no second booking)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import upgrade

# A datetime, not a string: asyncpg binds timestamptz parameters only from datetimes.
_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def test_0003_marks_consultations_seen_since_their_start(db_url: str) -> None:
    await upgrade(db_url, "0002")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            for cid, state in ((1, "active"), (2, "active"), (3, "final")):
                await conn.execute(
                    text(
                        "INSERT INTO consultations (id, state, origin, needs_refresh,"
                        " created_at, updated_at) VALUES (:id, :state, 'bot', false,"
                        " :now, :now)"
                    ),
                    {"id": cid, "state": state, "now": _NOW},
                )
            events = ((1, "Registered", "start"), (2, "Registered", "start"))
            events += ((2, "Processing", "notification"),)
            for cid, status, source in events:
                await conn.execute(
                    text(
                        "INSERT INTO status_events (consultation_id, status, occurred_at,"
                        " source, recorded_at) VALUES (:cid, :status, :now, :source, :now)"
                    ),
                    {"cid": cid, "status": status, "source": source, "now": _NOW},
                )
        await engine.dispose()
        await upgrade(db_url, "0003")
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT id, announced_at IS NOT NULL FROM consultations ORDER BY id")
            )
            marked = {cid: bool(flag) for cid, flag in rows}
    finally:
        await engine.dispose()
    # 1: only its start stored, never looked at: it is still to be announced.
    assert marked == {1: False, 2: True, 3: True}
