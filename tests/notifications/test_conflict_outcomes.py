"""A deadlock that outlasts its retries is a normal outcome for the status pipeline: the
worker puts the flags back and reconcile counts a failed batch, each with one WARNING and
no traceback; nothing is logged as an ERROR (issue 13)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import storage.conflicts
from bot.notifications.reconcile import Reconciler
from bot.services.status_changes import StatusProcessor
from storage.conflicts import ConflictRetry, TransactionConflict
from tests.notifications.harness import Harness
from tests.storage.forced_conflicts import FakeSleep, pg_error


@pytest.fixture
def always_deadlocked(monkeypatch: pytest.MonkeyPatch) -> FakeSleep:
    """Every status batch hits a deadlock; the retries' pauses are recorded, not slept."""
    sleep = FakeSleep()
    monkeypatch.setattr(storage.conflicts, "DEFAULT_RETRY", ConflictRetry(sleep=sleep))

    async def deadlocked(self: StatusProcessor, *args: Any, **kwargs: Any) -> Any:
        raise pg_error("40P01")

    monkeypatch.setattr(StatusProcessor, "apply_many", deadlocked)
    return sleep


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_worker_keeps_the_flags_of_a_batch_that_stays_deadlocked(
    harness: Harness, always_deadlocked: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing")
    assert (await harness.consultation(local_id)).needs_refresh is True
    assert harness.worker is not None
    with caplog.at_level(logging.INFO), pytest.raises(TransactionConflict):
        await harness.worker.run_once()
    assert len(always_deadlocked.delays) == 3  # four attempts
    assert (await harness.consultation(local_id)).needs_refresh is True
    assert await harness.events(local_id) == [("Registered", "start")]
    assert _problems(caplog) == []
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("status_worker_batch_conflict count=1 sqlstate=40P01")


async def test_reconcile_counts_a_batch_that_stays_deadlocked_as_failed(
    harness: Harness, always_deadlocked: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    _, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing", notify=False)
    runs: list[object] = []
    reconciler = Reconciler(
        session_factory=harness.session_factory,
        api=harness.api,
        processor=harness.processor(),
        on_run=lambda at, _: runs.append(at),
    )
    with caplog.at_level(logging.INFO):
        counts = await reconciler.run()
    assert (counts.failed_batches, counts.checked, counts.crashed) == (1, 0, False)
    assert runs == []  # not a reconcile for /health
    assert _problems(caplog) == []
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "reconcile_batch_failed size=1 error=TransactionConflict"
    ]
