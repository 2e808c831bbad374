"""One pass per tick across replicas (issue 13): every scheduled job runs under a lease.

Several replicas on one database each have the same jobs on their own scheduler. Before a
pass, the replica takes the job's row in ``job_leases`` (storage/repositories/job_leases.py)
for a little less than the job's interval, in its own short transaction; a replica that
finds the row held by another skips the tick (logged at DEBUG). The holder renews the lease
at each of its ticks; if it dies, the lease runs out before the next tick of the others, so
one of them takes over within one interval. A replica that stops releases its leases.

A pass that outlasts its lease (a slow partner, a long backlog) keeps it: the holder renews
it every third of its length while the pass runs, so no other replica starts the same pass
meanwhile, and releases it when the pass ends, so the next tick of any replica runs the next
pass. A holder that dies mid-pass stops renewing: its lease runs out within one length.

The clock is the replica's own (injected, for tests); replicas' clocks must agree to well
within ``margin`` (NTP does).

bot/app/scheduler.py wraps every job on the scheduler with ``JobLeases.guard`` just before
it starts: one place, whoever added the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.job_leases import JobLeaseRepository

log = logging.getLogger(__name__)

T = TypeVar("T")

# At most this much of an interval is kept free at its end, so the holder's lease has run
# out when the others tick next (and the holder itself renews at its own tick anyway).
MAX_MARGIN = timedelta(seconds=30)


def instance_id() -> str:
    """This process among the replicas: host, pid and a random part (a pid is reused after
    a restart in a fresh container)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_length(interval: timedelta) -> timedelta:
    """The job's interval minus a margin: a tenth of it, at most ``MAX_MARGIN``."""
    return interval - min(interval / 10, MAX_MARGIN)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobLeases:
    session_factory: async_sessionmaker[AsyncSession]
    holder: str = field(default_factory=instance_id)
    now: Callable[[], datetime] = _utcnow
    taken: set[str] = field(default_factory=set)  # jobs whose lease this replica last took

    async def take(self, name: str, length: timedelta) -> bool:
        now = self.now()
        async with self.session_factory() as session:
            ok = await JobLeaseRepository(session).take(name, self.holder, now, now + length)
            await session.commit()
        if ok:
            self.taken.add(name)
        else:
            self.taken.discard(name)
        return ok

    async def release(self, name: str) -> None:
        now = self.now()
        async with self.session_factory() as session:
            await JobLeaseRepository(session).release(name, self.holder, now)
            await session.commit()
        self.taken.discard(name)

    async def _keep(self, name: str, length: timedelta) -> None:
        """While a pass runs: renew its lease every third of the lease's length."""
        while True:
            await asyncio.sleep(length.total_seconds() / 3)  # a timer, not a synchronisation
            try:
                if not await self.take(name, length):
                    log.warning("job_lease_lost job=%s", name)  # expired: the database was away
            except Exception as exc:  # the next beat tries again
                log.warning("job_lease_renew_failed job=%s error=%s", name, type(exc).__name__)

    async def release_all(self) -> None:
        """On the way out: the next tick of another replica need not wait for our leases."""
        if not self.taken:
            return
        now = self.now()
        async with self.session_factory() as session:
            repo = JobLeaseRepository(session)
            for name in sorted(self.taken):
                await repo.release(name, self.holder, now)
            await session.commit()
        self.taken.clear()

    async def _leased_pass(
        self, func: Callable[[], Awaitable[T]], name: str, length: timedelta
    ) -> T | None:
        try:
            mine = await self.take(name, length)
        except Exception as exc:  # the database is down: the tick is lost, not the job
            log.warning("job_lease_failed job=%s error=%s", name, type(exc).__name__)
            return None
        if not mine:
            log.debug("job_skipped job=%s reason=leased_elsewhere", name)
            return None
        ends = self.now() + length
        keeper = asyncio.create_task(self._keep(name, length), name=f"lease-{name}")
        try:
            return await func()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if self.now() >= ends:  # outlasted its tick's lease: the next tick may run
                try:
                    await self.release(name)
                except Exception as exc:  # it runs out by itself
                    log.warning(
                        "job_lease_release_failed job=%s error=%s", name, type(exc).__name__
                    )

    def guard(
        self, func: Callable[[], Awaitable[T]], name: str, interval: timedelta
    ) -> Callable[[], Awaitable[T | None]]:
        """``func`` run only when this replica holds ``name``'s lease; ``None`` otherwise."""
        length = lease_length(interval)

        @functools.wraps(func)
        async def leased() -> T | None:
            try:
                return await self._leased_pass(func, name, length)
            except asyncio.CancelledError:
                # Only a stopping process cancels a job (APScheduler's shutdown, or
                # Reconciler.cancel_running), and it may do so anywhere: taking the lease,
                # in the pass, releasing it. Raised on, the scheduler would log a failed
                # job: an ERROR and a traceback in every deploy that stops a replica at
                # that moment. The next tick redoes the pass.
                log.info("job_cancelled job=%s (the process is stopping)", name)
                return None

        leased.__dict__["lease_guarded"] = True
        return leased


def is_guarded(func: Any) -> bool:
    return bool(getattr(func, "lease_guarded", False))
