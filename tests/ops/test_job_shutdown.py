"""A pass cut short by a stopping process (bot/shutdown.py): the scheduler's shutdown cancels
it (before the database closes); the cancellation goes on, through the lease guard, and
nothing is logged as ERROR, even when the unwinding raised an error of its own. A database
error outside a shutdown is still one. Retention stands for every job (they share the
helper); a loop over items (the digest's readers) stops at the cancellation too."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.lease import JobLeases
from bot.jobs.retention import RetentionCounts, RetentionJob
from bot.shutdown import raise_if_stopping

Factory = async_sessionmaker[AsyncSession]


def closed_connection() -> OperationalError:
    return OperationalError("ROLLBACK", {}, ConnectionResetError("connection is closed"))


@dataclass
class HeldPass(RetentionJob):
    """A pass held inside its transaction until cancelled; ``fail_on_cancel``: its unwinding
    then fails as on a connection the shutdown closes (the error replaces the cancellation,
    as any exception raised while one propagates does)."""

    fail_on_cancel: bool = False
    fail_now: bool = False
    inside: asyncio.Event = field(default_factory=asyncio.Event)

    async def purge(self, session: AsyncSession, counts: RetentionCounts) -> None:
        self.inside.set()
        if self.fail_now:
            raise closed_connection()
        try:
            await asyncio.Event().wait()  # only a cancellation ends it
        except asyncio.CancelledError as cancelled:
            if self.fail_on_cancel:
                raise closed_connection() from cancelled
            raise


async def cancel_inside(job: HeldPass) -> asyncio.Task[RetentionCounts]:
    task = asyncio.create_task(job.run())
    await job.inside.wait()
    task.cancel()  # what AsyncIOScheduler.shutdown does to a job in progress
    return task


@pytest.mark.parametrize("fail_on_cancel", [False, True])
async def test_a_pass_cancelled_at_shutdown_stays_cancelled_and_logs_no_error(
    session_factory: Factory, caplog: pytest.LogCaptureFixture, fail_on_cancel: bool
) -> None:
    job = HeldPass(session_factory, timedelta(days=30), fail_on_cancel=fail_on_cancel)
    with caplog.at_level(logging.INFO, logger="bot.jobs.retention"):
        task = await cancel_inside(job)
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "retention_failed" not in caplog.text
    if fail_on_cancel:  # the unwinding's error is told, as what it is
        assert "retention_cancelled error=OperationalError" in caplog.text


async def test_a_database_error_outside_a_shutdown_is_still_an_error(
    session_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    job = HeldPass(session_factory, timedelta(days=30), fail_now=True)
    with caplog.at_level(logging.INFO, logger="bot.jobs.retention"):
        counts = await job.run()
    assert counts == RetentionCounts()
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage().startswith("retention_failed error=OperationalError")


async def test_through_the_lease_guard_the_pass_ends_as_one_info_line(
    session_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """As the scheduler runs it: the guard ends the cancelled pass quietly (None)."""
    job = HeldPass(session_factory, timedelta(days=30), fail_on_cancel=True)
    guarded = JobLeases(session_factory, holder="replica-a").guard(
        job.run, "retention", timedelta(days=1)
    )
    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(guarded())
        await job.inside.wait()
        task.cancel()
        assert await task is None
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "retention_cancelled error=OperationalError" in caplog.text
    assert "job_cancelled job=retention" in caplog.text


async def test_a_loop_over_items_stops_at_the_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An ``except Exception`` per item (one bad reader does not hold back the others) would
    go on to the next item once the unwinding's error replaced the cancellation."""
    log = logging.getLogger("tests.ops.loop")
    started, done, failed = asyncio.Event(), [], []

    async def one(item: int) -> None:
        if item == 1:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError as cancelled:
                raise closed_connection() from cancelled
        done.append(item)

    async def loop() -> None:
        for item in range(4):
            try:
                await one(item)
            except Exception as exc:
                raise_if_stopping(log, "loop_cancelled", exc)
                failed.append(item)

    with caplog.at_level(logging.INFO, logger="tests.ops.loop"):
        task = asyncio.create_task(loop())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert done == [0] and failed == []  # items 2 and 3 were not started
    assert "loop_cancelled error=OperationalError" in caplog.text
