"""Issue 13: two replicas sharing one database run each scheduled pass once per tick
(bot/jobs/lease.py over storage/repositories/job_leases.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.lease import JobLeases, lease_length
from storage.repositories import JobLeaseRepository

INTERVAL = timedelta(minutes=1)
T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def replicas(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock
) -> tuple[JobLeases, JobLeases]:
    return (
        JobLeases(session_factory, holder="replica-a", now=clock),
        JobLeases(session_factory, holder="replica-b", now=clock),
    )


def test_lease_is_the_interval_less_a_margin() -> None:
    assert lease_length(timedelta(minutes=1)) == timedelta(seconds=54)
    assert lease_length(timedelta(hours=1)) == timedelta(minutes=59, seconds=30)
    assert lease_length(timedelta(seconds=5)) == timedelta(seconds=4.5)


async def test_two_replicas_ticking_together_run_the_pass_once_per_tick(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    runs: list[str] = []
    a, b = replicas(session_factory, clock)

    def pass_of(who: str) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            runs.append(who)
            return who

        return run

    jobs = [
        a.guard(pass_of("a"), "reconcile", INTERVAL),
        b.guard(pass_of("b"), "reconcile", INTERVAL),
    ]
    for tick in range(6):
        clock.now = T0 + tick * INTERVAL
        results = await asyncio.gather(*(job() for job in (jobs if tick % 2 else jobs[::-1])))
        assert sorted(r for r in results if r is not None) in (["a"], ["b"]), tick
        assert len(runs) == tick + 1


async def test_ticks_out_of_phase_still_run_once_per_interval(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    a, b = replicas(session_factory, clock)
    count = {"n": 0}

    async def run() -> None:
        count["n"] += 1

    job_a, job_b = a.guard(run, "reminders", INTERVAL), b.guard(run, "reminders", INTERVAL)
    for tick in range(5):  # b ticks 20 s after a
        clock.now = T0 + tick * INTERVAL
        await job_a()
        clock.now += timedelta(seconds=20)
        await job_b()
    assert count["n"] == 5


async def test_a_holder_that_stops_renewing_is_taken_over_after_its_lease(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    a, b = replicas(session_factory, clock)
    ran: list[str] = []

    async def run_a() -> None:
        ran.append("a")

    async def run_b() -> None:
        ran.append("b")

    job_a, job_b = a.guard(run_a, "retention", INTERVAL), b.guard(run_b, "retention", INTERVAL)
    await job_a()  # a holds the lease until T0 + 54 s, then dies
    with caplog.at_level(logging.DEBUG, logger="bot.jobs.lease"):
        clock.now = T0 + timedelta(seconds=53)
        await job_b()
    assert ran == ["a"]
    assert "job_skipped job=retention reason=leased_elsewhere" in caplog.text
    clock.now = T0 + lease_length(INTERVAL)  # within one interval of a's last run
    await job_b()
    assert ran == ["a", "b"]
    async with session_factory() as session:
        lease = await JobLeaseRepository(session).get("retention")
    assert lease is not None and lease.holder == "replica-b"
    assert lease.expires_at == clock.now + lease_length(INTERVAL)
    # a comes back: b holds it now.
    clock.now += timedelta(seconds=1)
    await job_a()
    assert ran == ["a", "b"]


async def test_a_stopping_replica_releases_its_leases(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    a, b = replicas(session_factory, clock)
    assert await a.take("token_refresh", timedelta(hours=1))
    assert not await b.take("token_refresh", timedelta(hours=1))
    await a.release_all()
    assert await b.take("token_refresh", timedelta(hours=1))
    await a.release_all()  # nothing held: no statement, and b keeps its lease
    assert not await a.take("token_refresh", timedelta(hours=1))


async def test_jobs_are_leased_separately(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    a, b = replicas(session_factory, clock)
    assert await a.take("reconcile", INTERVAL)
    assert await b.take("reminders", INTERVAL)
    assert not await a.take("reminders", INTERVAL)
    assert not await b.take("reconcile", INTERVAL)


async def test_many_replicas_racing_for_a_new_lease_take_it_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    leases = [JobLeases(session_factory, holder=f"r{i}", now=clock) for i in range(6)]
    for tick in range(3):
        clock.now = T0 + tick * INTERVAL
        length = lease_length(INTERVAL)
        taken = await asyncio.gather(*(lease.take("reconcile", length) for lease in leases))
        assert sum(taken) == 1, tick


async def test_a_lease_that_cannot_be_taken_skips_the_tick_with_a_warning(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    leases = JobLeases(session_factory, holder="replica-a", now=Clock())
    ran: list[int] = []

    async def run() -> None:
        ran.append(1)

    async def broken_take(name: str, length: timedelta) -> bool:
        raise ConnectionRefusedError("database down")

    leases.take = broken_take  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="bot.jobs.lease"):
        assert await leases.guard(run, "reconcile", INTERVAL)() is None
    assert ran == []
    assert "job_lease_failed job=reconcile error=ConnectionRefusedError" in caplog.text


async def test_a_pass_that_outlasts_its_lease_keeps_it_until_it_ends(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """A slow pass (a slow partner) renews its lease while it runs: the other replica's
    ticks meanwhile are refused; when it ends, the lease is free for the next tick."""
    clock = Clock()
    a, b = replicas(session_factory, clock)
    short = timedelta(seconds=0.3)  # the lease is renewed every 90 real ms while it runs
    started, finish = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def slow() -> None:
        ran.append("a")
        started.set()
        await finish.wait()

    async def quick() -> None:
        ran.append("b")

    slow_pass = asyncio.create_task(a.guard(slow, "reconcile", short)())
    await asyncio.wait_for(started.wait(), 5)
    clock.now += timedelta(seconds=10)  # far past the lease a took for its tick

    async def expires_at() -> datetime:
        async with session_factory() as session:
            lease = await JobLeaseRepository(session).get("reconcile")
        assert lease is not None and lease.holder == "replica-a"
        return lease.expires_at

    async with asyncio.timeout(5):
        while await expires_at() <= clock.now:  # noqa: ASYNC110 - a renewal is a database write
            await asyncio.sleep(0.02)
    assert await b.guard(quick, "reconcile", short)() is None  # a's pass is still running
    finish.set()
    await slow_pass
    await b.guard(quick, "reconcile", short)()
    assert ran == ["a", "b"]  # released when it ended: the next tick ran at once


async def test_a_pass_cancelled_by_a_stopping_process_ends_quietly(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """Reconciler.cancel_running cancels a pass at shutdown: raised on, APScheduler would log
    the job as failed (ERROR, traceback). The guard ends it with one INFO line instead."""
    leases = JobLeases(session_factory, holder="replica-a", now=Clock())
    started = asyncio.Event()

    async def endless() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(leases.guard(endless, "reconcile", INTERVAL)())
    await asyncio.wait_for(started.wait(), 5)
    with caplog.at_level(logging.INFO, logger="bot.jobs.lease"):
        task.cancel()
        assert await task is None
    assert "job_cancelled job=reconcile" in caplog.text


async def test_a_job_cancelled_while_taking_its_lease_ends_quietly(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """APScheduler's shutdown cancels a job wherever it is: a replica stopping just as a
    tick began cancels it inside the lease's own transaction. That too is one INFO line,
    not a failed job (tests/replicas: no ERROR when replicas stop)."""
    leases = JobLeases(session_factory, holder="replica-a", now=Clock())
    taking = asyncio.Event()
    ran: list[int] = []

    async def run() -> None:
        ran.append(1)

    async def stuck_take(name: str, length: timedelta) -> bool:
        taking.set()
        await asyncio.Event().wait()
        return True

    leases.take = stuck_take  # type: ignore[method-assign]
    task = asyncio.create_task(leases.guard(run, "retention", INTERVAL)())
    await asyncio.wait_for(taking.wait(), 5)
    with caplog.at_level(logging.INFO, logger="bot.jobs.lease"):
        task.cancel()
        assert await task is None
    assert ran == []
    assert "job_cancelled job=retention" in caplog.text
