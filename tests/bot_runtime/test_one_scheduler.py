"""The running app has one scheduler (run_bot's ``rt.scheduler``), carrying every periodic job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from api_client.sandbox import SandboxServer
from bot.jobs.lease import is_guarded
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[AsyncIOScheduler]:
    """Every APScheduler started in this test, whoever starts it."""
    seen: list[AsyncIOScheduler] = []
    original = AsyncIOScheduler.start

    def start(self: AsyncIOScheduler, *args: Any, **kwargs: Any) -> None:
        seen.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncIOScheduler, "start", start)
    return seen


async def test_running_app_has_one_scheduler_with_every_job(
    fake_tg: FakeTelegram, sandbox: SandboxServer, db_url: str, started: list[AsyncIOScheduler]
) -> None:
    # A partner API with a token endpoint (the sandbox playing the real one), so the token
    # refresh job is there too.
    settings = app_settings(
        fake_tg,
        db_url,
        TMAPI_BASE_URL=sandbox.url,
        TMAPI_AUTH_URL=f"{sandbox.url}/token",
        TMAPI_CLIENT_ID="bot",
        TMAPI_ACCESS_TOKEN="access",
        TMAPI_REFRESH_TOKEN="refresh",
        RECONCILE_INTERVAL_SECONDS="60",
        # A replica: db_url is migrated already, so it starts without migrating.
        MIGRATE_ON_START="false",
    )
    async with run_app(settings) as rt:
        scheduler = rt.require("scheduler")
        assert started == [scheduler] and scheduler.running
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"reconcile", "reminders", "digest", "retention", "token_refresh"}
        assert jobs["reconcile"].trigger.interval == timedelta(seconds=60)
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
        # Every job, whoever added it, runs under its lease (issue 13: one pass per tick).
        assert all(is_guarded(job.func) for job in jobs.values())
        # Built at start-up, never pickled: the memory store, callables with no arguments.
        assert all(not job.args and not job.kwargs for job in jobs.values())
        assert type(scheduler._jobstores["default"]).__name__ == "MemoryJobStore"
        # Handlers see the same scheduler.
        assert rt.require("dp").workflow_data["scheduler"] is scheduler
    assert not scheduler.running  # stopped with the app
