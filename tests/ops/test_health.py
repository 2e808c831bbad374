"""/health carries what an operator watches: outbox backlog, time since the last
reconcile, the sandbox flag (bot/http_server.py already serves them; pinned here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.http_server import HealthState, build_http_app
from storage.repositories import OutboxRepository

Factory = async_sessionmaker[AsyncSession]


async def test_health_reports_backlog_reconcile_age_and_sandbox(
    session_factory: Factory,
) -> None:
    async with session_factory() as session:
        for n in range(3):
            await OutboxRepository(session).enqueue(1, f"m{n}", dedupe_key=f"k{n}")
        await session.commit()
    health = HealthState(is_sandbox=True)
    app = build_http_app(session_factory=session_factory, health=health)
    async with TestClient(TestServer(app)) as client:
        body = await (await client.get("/health")).json()
        assert body["sandbox"] is True
        assert body["outbox_backlog"] == 3
        assert body["seconds_since_reconcile"] is None  # not reconciled yet

        health.reconciled(datetime.now(UTC) - timedelta(seconds=90))
        body = await (await client.get("/health")).json()
        assert 90 <= body["seconds_since_reconcile"] < 150
        assert body["status"] == "ok"
