"""run_in_transaction: a deadlock or serialization failure is run again, briefly and a
bounded number of times, logged without a traceback; past the bound it is a
TransactionConflict for the caller to handle, never an ERROR."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.conflicts import (
    ConflictRetry,
    TransactionConflict,
    conflict_sqlstate,
    run_in_transaction,
)
from storage.repositories import AppStateRepository
from tests.storage.forced_conflicts import FakeSleep, pg_error


def _retry(sleep: FakeSleep, attempts: int = 4) -> ConflictRetry:
    return ConflictRetry(attempts=attempts, base_delay=0.05, sleep=sleep, jitter=lambda: 0.25)


def _failing_then(
    failures: list[str], calls: list[int]
) -> Callable[[AsyncSession], Awaitable[str]]:
    async def work(session: AsyncSession) -> str:
        calls.append(1)
        # A write that a failed attempt must not leave behind: the retry starts afresh.
        repo = AppStateRepository(session)
        await repo.set("attempts", str(len(calls) + int(await repo.get("attempts") or 0)))
        if failures:
            raise pg_error(failures.pop(0))
        return "done"

    return work


def test_only_deadlocks_and_serialization_failures_are_conflicts() -> None:
    assert conflict_sqlstate(pg_error("40P01")) == "40P01"
    assert conflict_sqlstate(pg_error("40001")) == "40001"
    assert conflict_sqlstate(pg_error("23505")) is None  # a unique violation is a bug
    assert conflict_sqlstate(ValueError("40P01")) is None


async def test_a_deadlock_is_retried_and_then_succeeds(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    sleep = FakeSleep()
    calls: list[int] = []
    work = _failing_then(["40P01", "40001"], calls)
    with caplog.at_level(logging.DEBUG, logger="storage.conflicts"):
        result = await run_in_transaction(
            session_factory, work, what="status_batch", retry=_retry(sleep)
        )
    assert result == "done" and len(calls) == 3
    # Doubling, jittered (×0.75 here): 50 ms then 100 ms.
    assert sleep.delays == pytest.approx([0.0375, 0.075])
    async with session_factory() as session:
        # The failed attempts' writes were rolled back: only the third one's is stored.
        assert await AppStateRepository(session).get("attempts") == "3"
    lines = [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records]
    assert [level for level, _, _ in lines] == [logging.INFO, logging.INFO]
    assert "db_conflict_retry what=status_batch sqlstate=40P01 attempt=1" in lines[0][1]
    assert all(exc_info is None for _, _, exc_info in lines)


async def test_a_conflict_past_the_bound_is_a_handled_outcome(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    sleep = FakeSleep()
    calls: list[int] = []
    work = _failing_then(["40P01"] * 10, calls)
    with (
        caplog.at_level(logging.DEBUG, logger="storage.conflicts"),
        pytest.raises(TransactionConflict) as raised,
    ):
        await run_in_transaction(
            session_factory, work, what="status_batch", retry=_retry(sleep, attempts=3)
        )
    assert (raised.value.sqlstate, raised.value.attempts) == ("40P01", 3)
    assert len(calls) == 3 and len(sleep.delays) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    async with session_factory() as session:
        assert await AppStateRepository(session).get("attempts") is None


async def test_other_database_errors_are_not_retried(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    sleep = FakeSleep()
    calls: list[int] = []
    work = _failing_then(["23505"], calls)
    with pytest.raises(DBAPIError):
        await run_in_transaction(session_factory, work, what="status_batch", retry=_retry(sleep))
    assert len(calls) == 1 and sleep.delays == []
