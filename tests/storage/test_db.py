from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine
from storage.enums import ConsultationState, Role
from storage.models import Consultation, User


async def test_sqlite_engine_creates_parent_dir_and_sets_pragmas(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await conn.scalar(text("PRAGMA foreign_keys"))) == 1
            # Nothing waits on the loop's thread; a statement that meets a lock waits on
            # aiosqlite's, as long as configured (tests/storage/test_sqlite_async.py).
            assert (await conn.scalar(text("PRAGMA busy_timeout"))) == 0
            assert (await conn.get_raw_connection()).dbapi_connection._timeout == 15.0  # type: ignore[union-attr]
            # Checkpoints run off the loop, not inside a commit.
            assert (await conn.scalar(text("PRAGMA wal_autocheckpoint"))) == 0
        assert db.parent.is_dir()
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_is_shared_between_sessions() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT x FROM t")) == 1
    finally:
        await engine.dispose()


async def test_timestamps_are_utc_and_aware(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    plus7 = timezone(timedelta(hours=7))
    begin = datetime(2026, 11, 28, 15, 30, 12, 345678, tzinfo=plus7)
    async with session_factory() as s, s.begin():
        row = Consultation(state=ConsultationState.DRAFT, begin_at=begin)
        s.add(row)
        await s.flush()
        cid = row.id
    async with session_factory() as s:
        loaded = await s.get(Consultation, cid)
        assert loaded is not None and loaded.begin_at is not None
        assert loaded.begin_at.tzinfo is not None
        assert loaded.begin_at.utcoffset() == timedelta(0)
        assert loaded.begin_at == begin
        assert loaded.begin_at.hour == 8  # 15:30 at UTC+7
        assert loaded.created_at.tzinfo is not None


async def test_naive_datetime_is_refused(session: AsyncSession) -> None:
    session.add(User(telegram_id=1, role=Role.ADMIN, created_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()


async def test_sql_comparison_of_times_is_chronological(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    # Stored text on SQLite must still compare as time, across input zones.
    base = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    async with session_factory() as s, s.begin():
        for i, tz_hours in enumerate([5, -3, 0]):
            at = (base + timedelta(minutes=i)).astimezone(timezone(timedelta(hours=tz_hours)))
            s.add(Consultation(state=ConsultationState.DRAFT, begin_at=at))
    async with session_factory() as s:
        from sqlalchemy import select

        rows = (
            await s.scalars(
                select(Consultation)
                .where(Consultation.begin_at > base)
                .order_by(Consultation.begin_at)
            )
        ).all()
        assert [r.begin_at for r in rows] == [
            base + timedelta(minutes=1),
            base + timedelta(minutes=2),
        ]


async def test_a_failing_statement_does_not_carry_patient_data_in_its_error(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    # Errors are logged by the callers; the engine must not put bound values (a patient's
    # name or phone) into the exception text.
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as caught:
        async with session_factory() as s, s.begin():
            await s.execute(
                text("INSERT INTO no_such_table (name, phone) VALUES (:n, :p)"),
                {"n": "Петров Пётр", "p": "+79099708593"},
            )
    message = str(caught.value)
    assert "Петров" not in message and "79099708593" not in message
    assert "hidden" in message


async def test_a_new_sqlite_database_file_is_private_to_the_owner(tmp_path: Path) -> None:
    # The database holds patient names and phones: 0600 whatever the process umask; the
    # WAL and shared-memory files SQLite creates beside it take the same mode.
    db = tmp_path / "data" / "bot.db"
    old = os.umask(0o022)
    try:
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (x INTEGER)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            modes = {p.name: p.stat().st_mode & 0o777 for p in db.parent.iterdir()}
        finally:
            await engine.dispose()
    finally:
        os.umask(old)
    assert modes["bot.db"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
