"""storage/db.py's ping_idle_connections on a real PostgreSQL server: a pooled connection
is pinged only after sitting idle, and one the server dropped meanwhile is replaced before
the statement that needs it (PostgreSQL only: SQLite has no server to lose)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import create_engine, ping_idle_connections
from tests.postgres_admin import admin_sql
from tests.storage.conftest import PG_SKIP_REASON

IDLE_S = 1.0


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pg_url(pg_database_url: str | None) -> str:
    if pg_database_url is None:
        pytest.skip(PG_SKIP_REASON)
    return pg_database_url


@pytest.fixture
async def pinged(pg_url: str) -> AsyncIterator[tuple[AsyncEngine, Clock, list[Any]]]:
    engine = create_async_engine(pg_url)
    clock = Clock()
    ping_idle_connections(engine, idle_s=IDLE_S, clock=clock)
    pings: list[Any] = []
    do_ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return do_ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    yield engine, clock, pings
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def test_only_a_connection_that_sat_idle_is_pinged(
    pinged: tuple[AsyncEngine, Clock, list[Any]],
) -> None:
    engine, clock, pings = pinged
    first = await backend_pid(engine)  # a new connection: nothing to ping
    clock.now += IDLE_S / 2
    assert await backend_pid(engine) == first  # back from the pool a moment later
    assert pings == []
    clock.now += IDLE_S
    assert await backend_pid(engine) == first  # idle long enough: pinged, still good
    assert len(pings) == 1


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    pinged: tuple[AsyncEngine, Clock, list[Any]], pg_url: str
) -> None:
    engine, clock, pings = pinged
    dropped = await backend_pid(engine)
    # Gone (the call waits until it is), as in a server restart.
    await admin_sql(pg_url, f"SELECT pg_terminate_backend({dropped}, 5000)")
    clock.now += IDLE_S
    replacement = await backend_pid(engine)  # no error: the ping found it gone
    assert replacement != dropped and len(pings) == 1


async def test_a_connection_dropped_within_the_idle_time_fails_once_then_the_pool_renews(
    pinged: tuple[AsyncEngine, Clock, list[Any]], pg_url: str
) -> None:
    """The price of not pinging every checkout: a server gone and back within ``IDLE_S``
    of the connection's last use fails that one statement (as a statement already running
    would); the pool then replaces its connections."""
    engine, _clock, pings = pinged
    dropped = await backend_pid(engine)
    await admin_sql(pg_url, f"SELECT pg_terminate_backend({dropped}, 5000)")
    with pytest.raises(exc.DBAPIError) as raised:
        await backend_pid(engine)
    assert raised.value.connection_invalidated
    assert await backend_pid(engine) != dropped
    assert pings == []


async def test_the_app_engine_pings_idle_connections_not_every_checkout(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        pool = engine.sync_engine.pool
        assert not pool._pre_ping
        assert pool.dispatch.checkout and pool.dispatch.checkin
        assert await backend_pid(engine) == await backend_pid(engine)
    finally:
        await engine.dispose()
