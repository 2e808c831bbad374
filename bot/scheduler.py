"""The bot's one scheduler: every periodic job runs on it (issue 6, issue 8).

``run_bot`` (bot/app/runtime.py) creates it with ``new_scheduler()`` as ``rt.scheduler``
and hands it to handlers as ``data["scheduler"]``; the notifications step adds reconcile to
it; ``start(rt, scheduler)`` here adds the operator's jobs (reminders, retention, token
refresh), starts the scheduler and pushes its stop onto ``rt.stack`` — so it stops before
anything a job uses (the stack unwinds in reverse).

Jobs live in the in-memory job store and are rebuilt from the settings at every start-up:
nothing is pickled. Each job callable holds only long-lived factories (session factory,
API client, translations) and takes no per-run objects; every run opens its own database
session. Every job is ``max_instances=1`` (a slow run is never overlapped) and
``coalesce=True`` (ticks missed while the loop was busy collapse into one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs import reminders, retention, token_refresh
from bot.jobs.reminders import ReminderJob
from bot.jobs.retention import RetentionJob
from bot.jobs.token_refresh import TokenRefresher, TokenRefreshJob

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

REMINDER_INTERVAL = timedelta(minutes=1)
RETENTION_INTERVAL = timedelta(days=1)
TOKEN_REFRESH_INTERVAL = timedelta(hours=1)

Job = ReminderJob | RetentionJob | TokenRefreshJob


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


def build_jobs(rt: Runtime) -> dict[str, Job]:
    settings = rt.settings
    session_factory = rt.require("session_factory")
    wake = rt.outbox.wake if rt.outbox is not None else (lambda: None)
    jobs: dict[str, Job] = {}
    if settings.reminder_lead_minutes > 0:
        jobs[reminders.JOB_ID] = ReminderJob(
            session_factory=session_factory,
            i18n=rt.i18n,
            lead=timedelta(minutes=settings.reminder_lead_minutes),
            default_timezone=settings.default_timezone,
            outbox_wake=wake,
        )
    jobs[retention.JOB_ID] = RetentionJob(
        session_factory=session_factory,
        retention=timedelta(days=settings.retention_days),
        purge_conversations=not settings.redis_url,
    )
    refresher = rt.token_refresher  # the API client's own, when it refreshes tokens
    if refresher is None and settings.tmapi_auth_url and not settings.is_sandbox:
        refresher = TokenRefresher(session_factory, rt.require("http"), settings, rt.i18n)
    if refresher is not None:
        refresher.outbox_wake = wake
        jobs[token_refresh.JOB_ID] = TokenRefreshJob(refresher, provider=rt.token_provider)
    return jobs


async def start(rt: Runtime, scheduler: AsyncIOScheduler) -> dict[str, Job]:
    """The operator's jobs on ``scheduler``, which starts now; its stop goes on ``rt.stack``."""
    jobs = build_jobs(rt)
    intervals = {
        reminders.JOB_ID: (REMINDER_INTERVAL, timedelta(seconds=10)),
        retention.JOB_ID: (RETENTION_INTERVAL, timedelta(minutes=1)),
        token_refresh.JOB_ID: (TOKEN_REFRESH_INTERVAL, timedelta(seconds=15)),
    }
    for job_id, job in jobs.items():
        interval, first_in = intervals[job_id]
        add_interval_job(scheduler, job.run, job_id, interval, first_in)
    scheduler.start()
    log.info("scheduler_started jobs=%s", ",".join(job.id for job in scheduler.get_jobs()))

    async def stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)
            # AsyncIOScheduler stops through call_soon: let that callback run.
            await asyncio.sleep(0)

    rt.stack.push_async_callback(stop)
    return jobs
