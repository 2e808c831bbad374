"""Two replicas on one PostgreSQL: a reconcile pass and a status-worker batch over the same
consultations at the same moment, their answers in opposite orders, never deadlock (issue
13). Before the fix each transaction touched its consultations in the order the answers
came in (the database's scan order, which differs between a replica's plans), so the two
waited on each other's ``INSERT INTO status_events … ON CONFLICT`` and ``UPDATE
consultations``: PostgreSQL's deadlock detector killed one of them.

PostgreSQL only (TEST_POSTGRES_URL): SQLite has a single writer and cannot deadlock so.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api_client.auth import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.models import Callback
from api_client.sandbox.config import SandboxConfig
from api_client.sandbox.server import SandboxServer
from bot.notifications.reconcile import Reconciler
from bot.notifications.worker import fetch_and_apply
from storage.enums import EventSource
from storage.migrate import upgrade
from storage.models import OutboxMessage
from tests.notifications.harness import Harness
from tests.postgres_admin import admin_sql

PG_ENV = "TEST_POSTGRES_URL"
pytestmark = pytest.mark.skipif(
    not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set: PostgreSQL tests skipped"
)

CONSULTATIONS = 16
ROUNDS = 12
# Each round moves every consultation on, so both replicas have events to insert.
STATUSES = ("Processing", "PostProcessing")



@pytest.fixture
async def db_url() -> AsyncIterator[str]:
    """A scratch PostgreSQL database, migrated (overrides the notification tests' SQLite)."""
    base = os.environ[PG_ENV]
    name = f"deadlock_test_{uuid.uuid4().hex[:12]}"
    await admin_sql(base, f'CREATE DATABASE "{name}"')
    # A deadlock is found after deadlock_timeout (1 s by default): without the fix each
    # round would cost that second before failing.
    await admin_sql(base, f"ALTER DATABASE \"{name}\" SET deadlock_timeout = '50ms'")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(url)
        yield url
    finally:
        await admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Clock:
    """The sandbox's clock: each round's change a minute after the last (a status seen
    twice within a second would count as one event)."""

    at: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox_server(clock: Clock) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None, now=clock)) as server:
        yield server


@pytest.fixture
async def other_replica(
    sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[PartnerApiClient]:
    """The second replica's client; its answers come in the reverse order of the ids."""
    async with PartnerApiClient(sandbox_server.url, StaticTokenProvider("sandbox")) as client:
        plain = client.get_many

        async def reversed_get_many(ids: Iterable[str]) -> list[Callback]:
            return list(reversed(await plain(ids)))

        monkeypatch.setattr(client, "get_many", reversed_get_many)
        yield client


@pytest.mark.parametrize("first", ["reconcile", "worker"])
async def test_two_replicas_over_overlapping_consultations_in_opposite_orders_never_deadlock(
    first: str,
    harness: Harness,
    other_replica: PartnerApiClient,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Replica A reconciles all of them in one batch (or its worker refreshes the first
    three quarters); at the same moment replica B's worker refreshes the last three
    quarters, its answers in the opposite order."""
    await harness.serve_receiver()
    await harness.add_users()
    started = [await harness.start() for _ in range(CONSULTATIONS)]
    ids = [local_id for local_id, _ in started]
    quarter = CONSULTATIONS // 4
    reconciler = Reconciler(
        session_factory=harness.session_factory,
        api=harness.api,
        processor=harness.processor(),
        batch_size=CONSULTATIONS,
    )

    async def replica_a() -> tuple[int, int]:
        if first == "reconcile":
            counts = await reconciler.run()
            assert not counts.crashed and counts.failed_batches == 0, counts
            return counts.recorded, counts.queued
        done = await fetch_and_apply(
            harness.session_factory,
            harness.api,
            harness.processor(),
            ids[: CONSULTATIONS - quarter],
            EventSource.NOTIFICATION,
        )
        return done.recorded, done.queued

    queued = 0
    with caplog.at_level(logging.INFO):
        for round_ in range(ROUNDS):
            clock.at += timedelta(minutes=1)
            for _, partner_id in started:
                await harness.sandbox.set_status(partner_id, STATUSES[round_ % 2], notify=False)
            (recorded_a, queued_a), batch = await asyncio.gather(
                replica_a(),
                fetch_and_apply(
                    harness.session_factory,
                    other_replica,
                    harness.processor(),
                    ids[quarter:],
                    EventSource.NOTIFICATION,
                ),
            )
            # Every change recorded once, by one replica or the other.
            assert recorded_a + batch.recorded == CONSULTATIONS, (round_, recorded_a, batch)
            queued += queued_a + batch.queued

    for local_id in ids:
        assert len(await harness.events(local_id)) == 1 + ROUNDS
    async with harness.session_factory() as session:
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert rows == queued > 0  # each message queued once, and counted by who queued it
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Taking the rows in one order avoided the deadlocks; the retry was not what saved it.
    assert not [r for r in caplog.records if "db_conflict_retry" in r.getMessage()]
