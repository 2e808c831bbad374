"""The operator's jobs (reminders, retention, token refresh) on the bot's one scheduler
(bot/scheduler.py), built from the settings at every start-up; the scheduler starts here and
its stop goes on ``rt.stack`` — so it stops before anything a job uses (the stack unwinds
in reverse)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs import reminders, retention, token_refresh
from bot.jobs.reminders import ReminderJob
from bot.jobs.retention import RetentionJob
from bot.jobs.token_refresh import TokenRefresher, TokenRefreshJob
from bot.scheduler import add_interval_job

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

REMINDER_INTERVAL = timedelta(minutes=1)
RETENTION_INTERVAL = timedelta(days=1)
TOKEN_REFRESH_INTERVAL = timedelta(hours=1)

Job = ReminderJob | RetentionJob | TokenRefreshJob


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
            admin_ids=settings.admin_ids,
            outbox_wake=wake,
        )
    jobs[retention.JOB_ID] = RetentionJob(
        session_factory=session_factory,
        retention=timedelta(days=settings.retention_days),
        purge_conversations=not settings.redis_url,
        i18n=rt.i18n,
        outbox_wake=wake,
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
