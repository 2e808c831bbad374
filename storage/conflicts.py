"""Deadlocks and serialization failures: a normal outcome between replicas, retried.

Transactions that write several consultations take their rows first and in ascending id
order (``ConsultationRepository.lock_many``), so replicas wait for each other instead of
deadlocking. A conflict with a writer that does not follow that order (or PostgreSQL
choosing a victim anyway) is still possible: PostgreSQL then aborts one transaction with
SQLSTATE 40P01 (or 40001 under stricter isolation), and simply running it again is the
documented remedy. ``run_in_transaction`` does that a bounded number of times after a short
jittered pause, logging INFO without a traceback; past the bound it raises
``TransactionConflict``, which callers handle like a partner outage (the work is flagged
again or redone at the next tick), never as an ERROR. SQLite's single writer waits on its
busy timeout instead and never raises these.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")

# deadlock_detected, serialization_failure
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


class TransactionConflict(Exception):
    """A transaction still aborted by a deadlock or serialization failure after the retries."""

    def __init__(self, what: str, sqlstate: str, attempts: int) -> None:
        super().__init__(f"{what}: sqlstate {sqlstate} after {attempts} attempts")
        self.what = what
        self.sqlstate = sqlstate
        self.attempts = attempts


def conflict_sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE when `exc` is a deadlock or serialization failure, else None."""
    if not isinstance(exc, DBAPIError):
        return None
    # asyncpg's adapted errors carry both names; psycopg's carry one or the other.
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code if code in CONFLICT_SQLSTATES else None


@dataclass(frozen=True)
class ConflictRetry:
    """How often and after which pause a conflicting transaction is run again.

    Four attempts with 50, 100, 200 ms (each ×0.5–1.5, so two replicas that collided do
    not collide again in step): a deadlock costs well under a second, and a conflict that
    outlasts that is better left to the next tick than retried hot.
    """

    attempts: int = 4
    base_delay: float = 0.05
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = random.random  # in [0, 1)

    def delay(self, attempt: int) -> float:
        return float(self.base_delay * 2 ** (attempt - 1) * (0.5 + self.jitter()))


DEFAULT_RETRY = ConflictRetry()


async def run_in_transaction(
    session_factory: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    what: str,
    retry: ConflictRetry | None = None,
) -> T:
    """Run `work` in a new session and commit; run it again from scratch on a conflict.

    `work` must keep all its effects in the session (it may run more than once); `what`
    names it in the log (no patient data). `retry`: ``DEFAULT_RETRY`` as it is at the call.
    """
    retry = retry or DEFAULT_RETRY
    attempt = 1
    while True:
        try:
            async with session_factory() as session:
                result = await work(session)
                await session.commit()
            return result
        except DBAPIError as exc:
            sqlstate = conflict_sqlstate(exc)
            if sqlstate is None:
                raise
            # Leaving the session rolled the transaction back: its locks are free again.
            if attempt >= retry.attempts:
                raise TransactionConflict(what, sqlstate, attempt) from exc
            delay = retry.delay(attempt)
            log.info(
                "db_conflict_retry what=%s sqlstate=%s attempt=%d delay_ms=%.0f",
                what,
                sqlstate,
                attempt,
                delay * 1000,
            )
            await retry.sleep(delay)
            attempt += 1
