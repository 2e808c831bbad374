"""Storage fixtures: every test gets a fresh database built by the migrations, on SQLite
always and on PostgreSQL when TEST_POSTGRES_URL is set (.ci/run sets it)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from tests.postgres_admin import admin_sql

PG_ENV = "TEST_POSTGRES_URL"
PG_SKIP_REASON = f"{PG_ENV} is not set: PostgreSQL storage tests skipped (.ci/run sets it)"



@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    """One scratch database for the whole run (created and dropped here); each test then
    starts from an empty `public` schema, which is much faster than a database per test."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    name = f"storage_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_sql(base, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database_url: str | None
) -> str:
    """A URL of an empty database (not migrated)."""
    if request.param == "sqlite":
        # A subdirectory that does not exist yet: create_engine must create it.
        return f"sqlite+aiosqlite:///{tmp_path}/data/test.db"
    if pg_database_url is None:
        pytest.skip(PG_SKIP_REASON)
    await admin_sql(pg_database_url, "DROP SCHEMA IF EXISTS public CASCADE")
    await admin_sql(pg_database_url, "CREATE SCHEMA public")
    return pg_database_url


@pytest.fixture
async def migrated_url(db_url: str) -> str:
    await upgrade(db_url)
    return db_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(migrated_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with session_factory() as s:
        yield s


async def wait_for(
    condition: Callable[[], Awaitable[bool]], what: str, attempts: int = 1000
) -> None:
    """Poll `condition()` until true (at most ~5 s), or fail.

    Only for states that cannot signal us, such as another PostgreSQL backend waiting on a
    row lock (seen in pg_stat_activity).
    """
    for _ in range(attempts):
        if await condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"timed out waiting for {what}")


async def pg_lock_waiters(engine: AsyncEngine) -> int:
    """Backends of this database waiting on a lock (PostgreSQL only)."""
    async with engine.connect() as conn:
        n = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(n or 0)
