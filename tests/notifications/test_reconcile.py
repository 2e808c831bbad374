"""Reconcile: lost web-hooks and starts whose answer was lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from api_client.errors import OutcomeUnknown
from api_client.models import Callback, Phone
from api_client.retry import RetryPolicy
from bot.notifications.reconcile import JOB_ID, Reconciler
from bot.scheduler import new_scheduler
from storage.enums import ConsultationState, Role
from storage.hashing import new_secret
from storage.repositories import AuditRepository, ConsultationRepository, UserRepository
from tests.notifications.harness import (
    COORDINATOR,
    DOCTOR_ACCOUNT,
    DOCTOR_ID,
    PATIENT,
    PHONE,
    TEAM_CHAT,
    Harness,
)


def _reconciler(harness: Harness, **kw: object) -> Reconciler:
    return Reconciler(
        session_factory=harness.session_factory,
        api=harness.api,
        processor=harness.processor(),
        **kw,  # type: ignore[arg-type]
    )


async def test_lost_web_hook_is_caught_by_reconcile(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing", "Unsuccessful", notify=False)
    assert (await harness.consultation(local_id)).needs_refresh is False

    runs: list[datetime] = []
    counts = await _reconciler(harness, on_run=lambda at, _: runs.append(at)).run()
    assert (counts.checked, counts.recorded, counts.failed_batches) == (1, 2, 0)
    assert len(runs) == 1
    assert [e for e in await harness.events(local_id)] == [
        ("Registered", "start"),
        ("Processing", "reconcile"),
        ("Unsuccessful", "reconcile"),
    ]
    assert (await harness.consultation(local_id)).state is ConsultationState.FINAL
    keys = [r.dedupe_key for r in await harness.outbox()]
    assert f"cons:{local_id}:status:Unsuccessful:to:{COORDINATOR}" in keys
    assert f"cons:{local_id}:status:Unsuccessful:to:{DOCTOR_ACCOUNT}" in keys
    # The late GET afterwards changes nothing.
    await harness.sandbox.notify(partner_id)
    assert harness.worker is not None
    await harness.worker.run_once()
    assert [r.dedupe_key for r in await harness.outbox()] == keys
    # A final consultation is no longer fetched.
    harness.sandbox.clear_requests()
    assert (await _reconciler(harness).run()).checked == 0


async def test_reconcile_batches_by_url_length_and_survives_an_outage(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    started = [await harness.start() for _ in range(5)]
    harness.api.max_url_length = 200  # ≈ 2 ids per request
    harness.sandbox.clear_requests()
    harness.api.retry = RetryPolicy(max_attempts=1)  # fail fast: the next tick is the retry
    harness.sandbox.inject_fault("get_all", "503", count=100)
    failed = await _reconciler(harness, batch_size=2).run()
    assert failed.failed_batches == 3 and failed.checked == 0
    harness.sandbox.faults.clear()
    harness.sandbox.clear_requests()
    for _, partner_id in started:
        await harness.sandbox.set_status(partner_id, "Delayed", notify=False)
    ok = await _reconciler(harness, batch_size=40).run()
    assert (ok.checked, ok.recorded, ok.failed_batches) == (5, 5, 0)
    gets = harness.sandbox.requests_for("get_all")
    # One reconcile batch of 5, split by the client into URL-bounded requests.
    assert len(gets) >= 2 and all(len(r.path_qs) <= 200 for r in gets)
    assert sum(r.path_qs.count("ids=") for r in gets) == 5


async def _lost_start(harness: Harness) -> int:
    token = new_secret()
    async with harness.session_factory() as session:
        row = await ConsultationRepository(session).create_starting(
            token,
            coordinator_id=COORDINATOR,
            doctor_id=DOCTOR_ID,
            doctor_name="Иванова Мария Сергеевна",
            patient_name=PATIENT,
            patient_phone=PHONE,
        )
        await session.commit()
    harness.sandbox.inject_fault("start", "drop")
    with pytest.raises(OutcomeUnknown):
        await harness.api.start_callback(
            DOCTOR_ID,
            Phone.from_e164(PHONE),
            PATIENT,
            notification_url=f"{harness.hook_base}/hooks/callback/{token}",
        )
    async with harness.session_factory() as session:
        await ConsultationRepository(session).set_state(row.id, ConsultationState.UNKNOWN)
        await session.commit()
    return row.id


async def test_unknown_start_is_bound_to_what_the_sandbox_created(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id = await _lost_start(harness)
    created = [r for r in harness.sandbox.callbacks.values()]
    assert len(created) == 1  # the call did reach the partner

    counts = await _reconciler(harness).run()
    assert counts.bound == 1 and counts.gave_up == 0
    row = await harness.consultation(local_id)
    assert row.partner_id == created[0].id and row.state is ConsultationState.ACTIVE
    assert len(harness.sandbox.requests_for("start")) == 1  # never a second call
    keys = [r.dedupe_key for r in await harness.outbox()]
    assert f"cons:{local_id}:start-settled:to:{COORDINATOR}" in keys
    assert f"cons:{local_id}:status:Registered:to:{DOCTOR_ACCOUNT}" in keys
    assert f"cons:{local_id}:team:Registered:to:{TEAM_CHAT}" in keys
    async with harness.session_factory() as session:
        audit = await AuditRepository(session).list_recent()
    assert [(a.action, a.target) for a in audit] == [
        ("consultation_started", f"consultation:{local_id}")
    ]

    # From now on it is followed like any other: its web-hook works too.
    await harness.sandbox.set_status(row.partner_id, "Processing")
    assert harness.worker is not None
    assert await harness.worker.run_once() == 1
    assert ("Processing", "notification") in await harness.events(local_id)


async def test_unknown_start_not_created_fails_after_the_bound(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    token = new_secret()
    async with harness.session_factory() as session:
        row = await ConsultationRepository(session).create_starting(
            token,
            coordinator_id=COORDINATOR,
            doctor_id=DOCTOR_ID,
            patient_name=PATIENT,
            patient_phone=PHONE,
        )
        await ConsultationRepository(session).set_state(row.id, ConsultationState.UNKNOWN)
        await session.commit()
    early = await _reconciler(harness).run()
    assert early.pending == 1 and early.gave_up == 0
    assert (await harness.consultation(row.id)).state is ConsultationState.UNKNOWN

    later = datetime.now(UTC) + timedelta(minutes=11)
    late = await _reconciler(harness, now=lambda: later).run()
    assert late.gave_up == 1
    assert (await harness.consultation(row.id)).state is ConsultationState.FAILED
    [message] = await harness.outbox()
    assert message.chat_id == COORDINATOR
    assert message.dedupe_key == f"cons:{row.id}:start-failed:to:{COORDINATOR}"
    assert "again:" in (message.reply_markup or "")
    assert not harness.sandbox.requests_for("start")


@pytest.mark.parametrize(
    ("role", "doctor_id"),
    [(Role.DOCTOR, DOCTOR_ID + 1), (Role.ADMIN, None)],
    ids=["demoted-to-another-doctor", "removed-from-admin-ids"],
)
async def test_failed_start_not_told_to_whoever_lost_the_right(
    harness: Harness, role: Role, doctor_id: int | None
) -> None:
    """The "start it again" message carries the patient: only for who may still hear it."""
    await harness.add_users()
    async with harness.session_factory() as session:
        row = await ConsultationRepository(session).create_starting(
            new_secret(),
            coordinator_id=COORDINATOR,
            doctor_id=DOCTOR_ID,
            patient_name=PATIENT,
            patient_phone=PHONE,
        )
        await ConsultationRepository(session).set_state(row.id, ConsultationState.UNKNOWN)
        await UserRepository(session).set_role(COORDINATOR, role, doctor_id)
        await session.commit()
    later = datetime.now(UTC) + timedelta(minutes=11)
    counts = await _reconciler(harness, now=lambda: later).run()
    assert counts.gave_up == 1 and counts.queued == 0
    assert await harness.outbox() == []


async def test_reconcile_joins_the_bots_scheduler(harness: Harness) -> None:
    reconciler = _reconciler(harness)
    scheduler = new_scheduler()
    reconciler.schedule(scheduler, 120)
    job = scheduler.get_job(JOB_ID)
    assert job is not None and job.trigger.interval == timedelta(seconds=120)
    assert job.max_instances == 1 and job.coalesce is True
    assert not job.args and not job.kwargs  # nothing per run: it opens its own sessions
    assert not scheduler.running  # bot/scheduler.py starts (and stops) it


async def test_a_pass_keeps_a_bounded_number_of_batches_in_flight(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are fetched `in_flight` at a time (never more), each still one get-all, and
    every batch's answers go through the status path once: one event per change, one
    message per recipient; the sender is woken per batch that queued, not at the end."""
    await harness.serve_receiver()
    await harness.add_users()
    started = [await harness.start() for _ in range(7)]
    for _, partner_id in started:
        await harness.sandbox.set_status(partner_id, "Processing", notify=False)
    in_flight = peak = 0
    release = asyncio.Event()
    plain = harness.api.get_many

    async def watched_get_many(ids: Iterable[str]) -> list[Callback]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if peak == 3:
            release.set()  # the lanes are all busy: let them go
        await release.wait()  # holds the first lanes until the third is in flight
        try:
            return await plain(ids)
        finally:
            in_flight -= 1

    monkeypatch.setattr(harness.api, "get_many", watched_get_many)
    harness.sandbox.clear_requests()
    wakes: list[int] = []
    reconciler = _reconciler(
        harness, batch_size=2, in_flight=3, outbox_wake=lambda: wakes.append(1)
    )
    async with asyncio.timeout(30):  # a pass fetching one batch at a time never gets here
        counts = await reconciler.run()
    assert peak == 3
    assert len(harness.sandbox.requests_for("get_all")) == 4  # ceil(7 / 2)
    assert (counts.checked, counts.recorded, counts.failed_batches) == (7, 7, 0)
    for local_id, _ in started:
        assert [s for s, _ in await harness.events(local_id)] == ["Registered", "Processing"]
    keys = [r.dedupe_key for r in await harness.outbox()]
    assert len(keys) == len(set(keys)) == counts.queued > 0
    assert len(wakes) == 4 + 1  # once per batch that queued, and once at the end
    # A second pass finds nothing new: nothing recorded or queued twice.
    again = await _reconciler(harness, batch_size=2, in_flight=3).run()
    assert (again.recorded, again.queued) == (0, 0)
