"""The bot's one scheduler: every periodic job runs on it (issue 6, issue 8).

``run_bot`` (bot/app/runtime.py) creates it with ``new_scheduler()`` as ``rt.scheduler``
and hands it to handlers as ``data["scheduler"]``; the notifications step adds reconcile to
it; bot/app/scheduler.py adds the operator's jobs (reminders, retention, token refresh),
starts it and pushes its stop onto ``rt.stack``. This module is a leaf (APScheduler only),
so any job's module may use ``add_interval_job`` without an import cycle.

Jobs live in the in-memory job store and are rebuilt from the settings at every start-up:
nothing is pickled. Each job callable holds only long-lived factories (session factory,
API client, translations) and takes no per-run objects; every run opens its own database
session. Every job is ``max_instances=1`` (a slow run is never overlapped) and
``coalesce=True`` (ticks missed while the loop was busy collapse into one). With several
replicas, bot/app/scheduler.py wraps every job in its database lease (bot/jobs/lease.py)
before the scheduler starts, so each pass runs on one replica per tick.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger


def new_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)


def add_interval_job(
    scheduler: AsyncIOScheduler,
    func: Callable[[], Awaitable[Any]],
    job_id: str,
    interval: timedelta,
    first_in: timedelta,
    *,
    name: str | None = None,
) -> None:
    """Every ``interval``, the first run ``first_in`` from now (what happened while the bot
    was down is looked at soon after start-up)."""
    scheduler.add_job(
        func,
        trigger=IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
        id=job_id,
        name=name or job_id,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(interval.total_seconds())),
        next_run_time=datetime.now(UTC) + first_in,
    )
