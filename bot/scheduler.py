"""Puts the operator's jobs (reminders, retention, token refresh) on the schedule.

A component of ``bot/app.py`` (``COMPONENT_MODULES``): ``start(rt)`` runs after the
notifications component has started the reconcile scheduler. If that APScheduler is
shared in ``rt.workflow_data["scheduler"]`` the jobs join it; otherwise this module runs
its own ``AsyncIOScheduler`` (in-memory store, nothing pickled), stopped through
``rt.stack``. Either way each job is ``max_instances=1`` and ``coalesce=True``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs import reminders, retention, token_refresh
from bot.jobs.reminders import ReminderJob
from bot.jobs.retention import RetentionJob
from bot.jobs.token_refresh import TokenRefresher, TokenRefreshJob

log = logging.getLogger(__name__)

KEY = "ops_jobs"
SHARED_SCHEDULER_KEY = "scheduler"
REMINDER_INTERVAL = timedelta(minutes=1)
RETENTION_INTERVAL = timedelta(days=1)
TOKEN_REFRESH_INTERVAL = timedelta(hours=1)


def _add(
    scheduler: AsyncIOScheduler,
    func: Any,
    job_id: str,
    interval: timedelta,
    first_in: timedelta,
) -> None:
    scheduler.add_job(
        func,
        trigger=IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
        id=job_id,
        name=job_id,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(interval.total_seconds())),
        next_run_time=datetime.now(UTC) + first_in,
    )


def build_jobs(rt: Any) -> dict[str, Any]:
    settings = rt.settings
    session_factory = rt.require("session_factory")
    wake = rt.outbox.wake if rt.outbox is not None else (lambda: None)
    jobs: dict[str, Any] = {}
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
    refresher = rt.workflow_data.get("token_refresher")
    if refresher is None and settings.tmapi_auth_url and not settings.is_sandbox:
        refresher = TokenRefresher(session_factory, rt.require("http"), settings, rt.i18n)
    if isinstance(refresher, TokenRefresher):
        refresher.outbox_wake = wake
        jobs[token_refresh.JOB_ID] = TokenRefreshJob(
            refresher, provider=rt.workflow_data.get("token_provider")
        )
    return jobs


async def start(rt: Any) -> None:
    jobs = build_jobs(rt)
    rt.workflow_data[KEY] = jobs
    scheduler = rt.workflow_data.get(SHARED_SCHEDULER_KEY)
    own = not isinstance(scheduler, AsyncIOScheduler)
    if own:
        scheduler = AsyncIOScheduler(timezone=UTC)
    intervals = {
        reminders.JOB_ID: (REMINDER_INTERVAL, timedelta(seconds=10)),
        retention.JOB_ID: (RETENTION_INTERVAL, timedelta(minutes=1)),
        token_refresh.JOB_ID: (TOKEN_REFRESH_INTERVAL, timedelta(seconds=15)),
    }
    for job_id, job in jobs.items():
        interval, first_in = intervals[job_id]
        _add(scheduler, job.run, job_id, interval, first_in)
    log.info("ops_jobs_scheduled jobs=%s shared=%s", ",".join(jobs), not own)
    if own:
        scheduler.start()

        async def stop() -> None:
            if scheduler.running:
                scheduler.shutdown(wait=False)
                # AsyncIOScheduler stops through call_soon: let that callback run.
                await asyncio.sleep(0)

        rt.stack.push_async_callback(stop)
