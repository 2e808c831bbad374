"""PostgreSQL through storage.db's engine (storage/pg_async.py): a transaction begins at its
first statement that needs one; plain reads before it cost no BEGIN and no COMMIT. Writes,
locks and other isolation levels are as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import create_engine
from storage.pg_async import reads_only
from tests.postgres_admin import admin_sql
from tests.storage.conftest import PG_SKIP_REASON


@pytest.mark.parametrize(
    ("sql", "plain"),
    [
        ("SELECT id FROM t WHERE id = $1", True),
        ("  (SELECT 1) UNION (SELECT 2)", True),
        ("select * from consultations where state = 'x'", True),
        ("SELECT id FROM t FOR UPDATE SKIP LOCKED", False),
        ("SELECT id FROM t FOR NO KEY UPDATE", False),
        ("SELECT id FROM t\nFOR KEY SHARE", False),
        ("SELECT id FROM t FOR SHARE", False),
        ("SELECT pg_advisory_xact_lock(1)", False),
        ("SELECT set_config('x.y', '1', true)", False),
        ("INSERT INTO t (name) VALUES ($1)", False),
        ("UPDATE t SET name = $1", False),
        ("WITH x AS (DELETE FROM t RETURNING id) SELECT * FROM x", False),
    ],
)
def test_which_statements_may_run_before_the_transaction(sql: str, plain: bool) -> None:
    assert reads_only(sql) is plain


@pytest.fixture
async def pg_engine(pg_database_url: str | None) -> AsyncIterator[AsyncEngine]:
    if pg_database_url is None:
        pytest.skip(PG_SKIP_REASON)
    await admin_sql(pg_database_url, "DROP SCHEMA IF EXISTS public CASCADE")
    await admin_sql(pg_database_url, "CREATE SCHEMA public")
    engine = create_engine(pg_database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        await conn.execute(text("INSERT INTO t VALUES (1, 'a')"))
    yield engine
    await engine.dispose()


async def began(conn: AsyncConnection) -> bool:
    """Whether the connection's transaction was begun at the server (BEGIN sent)."""
    raw: Any = (await conn.get_raw_connection()).dbapi_connection
    return bool(raw._started)


async def test_reads_alone_send_no_begin_and_no_commit(pg_engine: AsyncEngine) -> None:
    async with pg_engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t WHERE id = 1"))).scalar() == "a"
        assert not await began(conn)
        await conn.commit()  # nothing to send


async def test_the_first_write_begins_and_a_rollback_undoes_it(pg_engine: AsyncEngine) -> None:
    async with pg_engine.connect() as conn:
        await conn.execute(text("SELECT name FROM t"))
        assert not await began(conn)
        await conn.execute(text("UPDATE t SET name = 'b' WHERE id = 1"))
        assert await began(conn)
        await conn.execute(text("SELECT name FROM t"))  # inside it now
        await conn.rollback()
    async with pg_engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t WHERE id = 1"))).scalar() == "a"


async def test_a_locking_read_begins_and_holds_its_lock(pg_engine: AsyncEngine) -> None:
    async with pg_engine.connect() as holder, pg_engine.connect() as other:
        await holder.execute(text("SELECT id FROM t WHERE id = 1 FOR UPDATE"))
        assert await began(holder)
        with pytest.raises(DBAPIError, match="could not obtain lock"):
            await other.execute(text("SELECT id FROM t WHERE id = 1 FOR UPDATE NOWAIT"))
        await other.rollback()
        await holder.commit()


async def test_another_isolation_level_begins_at_the_first_read(pg_engine: AsyncEngine) -> None:
    """REPEATABLE READ: the snapshot is the transaction's, so reads belong inside it."""
    async with pg_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.execute(text("SELECT name FROM t"))
        assert await began(conn)
        await conn.commit()
