"""SQLite through storage.db's engine: one trip to aiosqlite's thread per statement, with
rows, row counts, last row ids and errors as SQLAlchemy's own adapter gives them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls queued for aiosqlite's thread, by name."""
    seen: list[str] = []
    queue = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield seen


async def test_a_statement_is_one_trip_and_a_transaction_one_more(
    sqlite_engine: AsyncEngine, hops: list[str]
) -> None:
    async with sqlite_engine.connect() as conn:  # a pooled connection: no connect below
        await conn.execute(text("SELECT 1"))
        await conn.rollback()
    hops.clear()

    async with sqlite_engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
    # Three statements, the commit; no ROLLBACK as the connection went back to the pool.
    assert len(hops) == 4 and hops[-1] == "commit", hops
    assert inserted.lastrowid == 1 and many.rowcount == 2
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


async def test_errors_are_the_drivers_own(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with sqlite_engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    async with sqlite_engine.connect() as conn:  # the failed transaction left nothing open
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
