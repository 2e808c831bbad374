"""The operator's jobs (reminders, the morning digest, retention, token refresh) on the
bot's one scheduler (bot/scheduler.py), built from the settings at every start-up; the
scheduler starts here and its stop goes on ``rt.stack`` — so it stops before anything a job
uses (the stack unwinds in reverse).

Just before the start, every job on the scheduler (these and reconcile, added by the
notifications step) is wrapped in its lease (bot/jobs/lease.py): with several replicas on
one database, each pass runs on one replica per tick."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs import digest, reminders, retention, token_refresh
from bot.jobs.digest import DigestJob
from bot.jobs.lease import JobLeases, is_guarded
from bot.jobs.reminders import ReminderJob
from bot.jobs.retention import RetentionJob
from bot.jobs.token_refresh import TokenRefresher, TokenRefreshJob
from bot.scheduler import add_interval_job

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

REMINDER_INTERVAL = timedelta(minutes=1)
DIGEST_INTERVAL = timedelta(minutes=1)  # a digest comes within a minute of its time
RETENTION_INTERVAL = timedelta(days=1)
TOKEN_REFRESH_INTERVAL = timedelta(hours=1)

Job = ReminderJob | DigestJob | RetentionJob | TokenRefreshJob


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
    jobs[digest.JOB_ID] = DigestJob(
        session_factory=session_factory,
        i18n=rt.i18n,
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
        digest.JOB_ID: (DIGEST_INTERVAL, timedelta(seconds=20)),
        retention.JOB_ID: (RETENTION_INTERVAL, timedelta(minutes=1)),
        token_refresh.JOB_ID: (TOKEN_REFRESH_INTERVAL, timedelta(seconds=15)),
    }
    for job_id, job in jobs.items():
        interval, first_in = intervals[job_id]
        add_interval_job(scheduler, job.run, job_id, interval, first_in)
    leases = JobLeases(rt.require("session_factory"))
    guard_jobs(scheduler, leases)
    scheduler.start()
    log.info(
        "scheduler_started jobs=%s instance=%s",
        ",".join(job.id for job in scheduler.get_jobs()), leases.holder,
    )

    async def stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)
            # AsyncIOScheduler stops through call_soon: let that callback run.
            await asyncio.sleep(0)
        # A stopping replica's leases need not run out before another takes the next tick.
        try:
            await leases.release_all()
        except Exception as exc:  # they run out by themselves
            log.warning("job_leases_release_failed error=%s", type(exc).__name__)

    rt.stack.push_async_callback(stop)
    return jobs


def guard_jobs(scheduler: AsyncIOScheduler, leases: JobLeases) -> None:
    """Every interval job on ``scheduler`` runs under its lease, named by the job's id and as
    long as its interval (less a margin): the one place where jobs are leased."""
    for job in scheduler.get_jobs():
        interval = getattr(job.trigger, "interval", None)
        if not isinstance(interval, timedelta) or is_guarded(job.func):
            continue
        job.modify(func=leases.guard(job.func, job.id, interval))
