"""Reconcile's ``on_run`` (what /health's seconds_since_reconcile counts from) fires only
for a run that succeeded: a partner outage must not look like a fresh reconcile."""

from __future__ import annotations

from datetime import datetime

from api_client.retry import RetryPolicy
from bot.notifications.reconcile import ReconcileCounts, Reconciler
from storage.enums import ConsultationState
from storage.hashing import new_secret
from storage.repositories import ConsultationRepository
from tests.notifications.harness import COORDINATOR, DOCTOR_ID, PATIENT, PHONE, Harness


def _reconciler(harness: Harness, runs: list[datetime]) -> Reconciler:
    def on_run(at: datetime, counts: ReconcileCounts) -> None:
        runs.append(at)

    return Reconciler(
        session_factory=harness.session_factory,
        api=harness.api,
        processor=harness.processor(),
        on_run=on_run,
        batch_size=1,
    )


async def test_failed_batches_do_not_count_as_a_reconcile(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    for _ in range(3):
        await harness.start()
    harness.api.retry = RetryPolicy(max_attempts=1)  # fail fast: the next tick is the retry
    runs: list[datetime] = []

    harness.sandbox.inject_fault("get_all", "503", count=100)  # every batch fails
    counts = await _reconciler(harness, runs).run()
    assert counts.failed_batches == 3 and counts.checked == 0
    assert runs == []

    harness.sandbox.faults.clear()
    harness.sandbox.inject_fault("get_all", "503", count=1)  # one batch of three fails
    counts = await _reconciler(harness, runs).run()
    assert counts.failed_batches == 1 and counts.checked == 2
    assert runs == []

    harness.sandbox.faults.clear()
    counts = await _reconciler(harness, runs).run()
    assert counts.failed_batches == 0 and counts.checked == 3
    assert len(runs) == 1


async def test_an_unsettled_start_does_not_count_as_a_reconcile(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    async with harness.session_factory() as session:
        repo = ConsultationRepository(session)
        row = await repo.create_starting(
            new_secret(),
            coordinator_id=COORDINATOR,
            doctor_id=DOCTOR_ID,
            patient_name=PATIENT,
            patient_phone=PHONE,
        )
        await repo.set_state(row.id, ConsultationState.UNKNOWN)
        await session.commit()
    harness.api.retry = RetryPolicy(max_attempts=1)
    runs: list[datetime] = []

    harness.sandbox.inject_fault("get_all", "503", count=100)  # the matcher's get-all fails
    counts = await _reconciler(harness, runs).run()
    assert counts.unsettled_errors == 1
    assert runs == []

    harness.sandbox.faults.clear()
    counts = await _reconciler(harness, runs).run()
    assert counts.unsettled_errors == 0 and counts.pending == 1
    assert len(runs) == 1
