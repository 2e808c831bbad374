from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.repositories import AuditRepository, TokenRepository
from tests.storage.conftest import pg_lock_waiters, wait_for

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@dataclass
class Pair:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


async def test_token_get_save(session: AsyncSession) -> None:
    tokens = TokenRepository(session)
    assert await tokens.get() is None
    assert await tokens.lock_for_refresh() is None
    row = await tokens.save(Pair("a1", "r1", T0))
    assert (row.id, row.access_token, row.refresh_token, row.expires_at) == (1, "a1", "r1", T0)
    row = await tokens.save(Pair("a2", None, None))
    assert (row.access_token, row.refresh_token, row.expires_at) == ("a2", None, None)
    assert "a2" not in repr(row)


async def test_lock_for_refresh_serialises_refreshers(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    async with session_factory() as s, s.begin():
        await TokenRepository(s).save(Pair("a1", "r1", T0))

    spent: list[str] = []
    first_locked = asyncio.Event()
    second_started = asyncio.Event()

    async def refresher(name: str) -> str:
        async with session_factory() as s, s.begin():
            if name == "b":
                await first_locked.wait()
                second_started.set()
            repo = TokenRepository(s)
            row = await repo.lock_for_refresh()
            assert row is not None
            if name == "a":
                first_locked.set()
                await second_started.wait()
                if engine.dialect.name == "postgresql":
                    # Hold the lock until the other refresher is really blocked on it.
                    await wait_for(lambda: _has_waiter(engine), what="b blocked on the row")
            current = row.refresh_token or ""
            if current == "r1":  # still the stale token: spend it (only one may)
                spent.append(name)
                await repo.save(Pair("a2", "r2", T0 + timedelta(hours=1)))
            return current

    seen = await asyncio.gather(refresher("a"), refresher("b"))
    assert spent == ["a"]
    assert seen == ["r1", "r2"]


async def _has_waiter(engine: AsyncEngine) -> bool:
    return await pg_lock_waiters(engine) >= 1


async def test_audit(session: AsyncSession) -> None:
    audit = AuditRepository(session)
    await audit.add(1, "invite", "invite:5", now=T0)
    await audit.add(2, "terminate", "consultation:9", now=T0 + timedelta(minutes=1))
    await audit.add(None, "purge", None, now=T0 + timedelta(minutes=2))
    recent = await audit.list_recent(2)
    assert [e.action for e in recent] == ["purge", "terminate"]
    assert [e.target for e in await audit.list_recent(actor_id=1)] == ["invite:5"]
    assert recent[0].created_at == T0 + timedelta(minutes=2)
