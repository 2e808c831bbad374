"""Receiver + worker against the sandbox and a real database (no Telegram side)."""

from __future__ import annotations

import httpx

from storage.repositories import ConsultationRepository
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, TEAM_CHAT, Harness


def _keys(rows: list) -> list[str]:
    return [r.dedupe_key for r in rows]


async def test_hook_flags_and_worker_records_a_jump_of_two_statuses(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    assert await harness.events(local_id) == [("Registered", "start")]

    # Two statuses passed between two looks; one GET.
    await harness.sandbox.set_status(partner_id, "PreProcessing", "Processing")
    assert harness.sandbox.notifications[-1].http_status == 200
    assert (await harness.consultation(local_id)).needs_refresh is True

    assert harness.worker is not None
    assert await harness.worker.run_once() == 1
    assert await harness.events(local_id) == [
        ("Registered", "start"),
        ("PreProcessing", "notification"),
        ("Processing", "notification"),
    ]
    row = await harness.consultation(local_id)
    assert row.needs_refresh is False and row.last_status == "Processing"
    assert _keys(await harness.outbox()) == [
        # The start (stored by the wizard) is announced at the first refresh.
        f"cons:{local_id}:status:Registered:to:{DOCTOR_ACCOUNT}",
        f"cons:{local_id}:team:Registered:to:{TEAM_CHAT}",
        f"cons:{local_id}:team:PreProcessing:to:{TEAM_CHAT}",
        f"cons:{local_id}:status:Processing:to:{COORDINATOR}",
        f"cons:{local_id}:team:Processing:to:{TEAM_CHAT}",
    ]
    assert harness.outbox_wakes == 1


async def test_duplicate_and_forged_gets_queue_nothing(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing")
    assert harness.worker is not None
    await harness.worker.run_once()
    before = _keys(await harness.outbox())

    await harness.sandbox.notify(partner_id)  # the partner repeats itself
    await harness.worker.run_once()
    async with httpx.AsyncClient() as http:  # someone replays the URL
        url = harness.sandbox.get_record(partner_id).notification_url
        assert (await http.get(url)).status_code == 200
        assert (await http.post(url)).status_code == 200
    await harness.worker.run_once()
    assert _keys(await harness.outbox()) == before
    assert [e for e, _ in await harness.events(local_id)] == ["Registered", "Processing"]


async def test_many_hits_coalesce_into_one_fetch(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    ids = [await harness.start() for _ in range(3)]
    for _, partner_id in ids:
        await harness.sandbox.set_status(partner_id, "Processing")
        await harness.sandbox.notify(partner_id)
    harness.sandbox.clear_requests()
    assert harness.worker is not None
    assert await harness.worker.run_once() == 3
    gets = [r for r in harness.sandbox.requests if r.route in ("get", "get_all")]
    assert len(gets) == 1 and gets[0].route == "get_all"


async def test_refresh_pending_before_a_restart_is_caught_up(harness: Harness) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing", "PostProcessing", "Processed")
    # The bot "died" here: the flag is in the database, nobody processed it.
    assert (await harness.consultation(local_id)).needs_refresh is True
    fresh_worker = harness.new_worker()
    assert await fresh_worker.run_once() == 1
    row = await harness.consultation(local_id)
    assert row.state.value == "final" and row.last_status == "Processed"
    keys = _keys(await harness.outbox())
    assert f"cons:{local_id}:status:Processed:to:{COORDINATOR}" in keys
    # Only the booking for him: Processing/PostProcessing/Processed are not his essentials.
    assert [k for k in keys if k.endswith(f"to:{DOCTOR_ACCOUNT}")] == [
        f"cons:{local_id}:status:Registered:to:{DOCTOR_ACCOUNT}"
    ]


async def test_unknown_token_is_404_without_detail_and_counted(harness: Harness) -> None:
    await harness.serve_receiver()
    async with httpx.AsyncClient() as http:
        for path in (
            "/hooks/callback/" + "x" * 32,
            "/hooks/callback/short",
            "/hooks/callback/%2e%2e",
        ):
            response = await http.get(harness.hook_base + path)
            assert response.status_code == 404
            assert response.text in ("", "404: Not Found")
    assert harness.receiver is not None and harness.receiver.stats.unknown >= 2


async def test_hook_before_the_partner_id_is_bound_is_kept(harness: Harness) -> None:
    await harness.serve_receiver()
    async with harness.session_factory() as session:
        row = await ConsultationRepository(session).create_starting(
            "tok_" + "a" * 30, coordinator_id=COORDINATOR, doctor_id=101
        )
        await session.commit()
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{harness.hook_base}/hooks/callback/tok_{'a' * 30}")
    assert response.status_code == 200
    assert harness.worker is not None
    assert await harness.worker.run_once() == 0
    assert (await harness.consultation(row.id)).needs_refresh is True


async def test_a_look_with_no_change_announces_nothing_to_late_recipients(
    harness: Harness,
) -> None:
    """The booking is announced once, at the first look: a doctor account linked later, a
    coordinator who switched to "all" and the team chat under a new id hear nothing stale."""
    from bot.notifications.worker import fetch_and_apply
    from storage.enums import EventSource, NotifyMode, Role
    from storage.repositories import UserRepository

    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing")
    assert harness.worker is not None
    await harness.worker.run_once()
    before = _keys(await harness.outbox())
    assert f"cons:{local_id}:status:Registered:to:{DOCTOR_ACCOUNT}" in before
    assert (await harness.consultation(local_id)).announced_at is not None

    async with harness.session_factory() as session:
        users = UserRepository(session)
        await users.upsert(6002, role=Role.DOCTOR, display_name="Dr 2", doctor_id=101)
        await users.set_notify_mode(COORDINATOR, NotifyMode.ALL)
        await session.commit()
    harness.team_chat_id = -100888  # the group migrated to a supergroup
    result = await fetch_and_apply(
        harness.session_factory, harness.api, harness.processor(), [local_id], EventSource.RECONCILE
    )
    assert (result.recorded, result.queued) == (0, 0)
    assert _keys(await harness.outbox()) == before


async def test_a_failed_batch_keeps_the_flags_of_the_ids_held_back(harness: Harness) -> None:
    """A hook before the partner id was bound is held back; if the batch fetch of the other
    ids then raises, the held-back flag must still be put back (not dropped)."""
    import pytest

    from api_client.errors import ApiError

    await harness.serve_receiver()
    await harness.add_users()
    ready_id, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing")
    async with harness.session_factory() as session:
        pending = await ConsultationRepository(session).create_starting(
            "tok_" + "b" * 30, coordinator_id=COORDINATOR, doctor_id=101
        )
        await session.commit()
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{harness.hook_base}/hooks/callback/tok_{'b' * 30}")
    assert response.status_code == 200
    harness.sandbox.inject_fault(
        "get_all", "error", status=400, type="bad_argument", value="ids", description="no"
    )
    assert harness.worker is not None
    with pytest.raises(ApiError):
        await harness.worker.run_once()
    assert (await harness.consultation(ready_id)).needs_refresh is True
    assert (await harness.consultation(pending.id)).needs_refresh is True


async def test_wait_idle_returns_once_the_hooks_refresh_is_done(harness: Harness) -> None:
    """Reconcile steps aside between its batches with `wait_idle`: it returns at once when
    no hook is pending, after the refresh when one is, and after its bound at the latest."""
    import asyncio

    await harness.serve_receiver()
    await harness.add_users()
    local_id, partner_id = await harness.start()
    worker = harness.new_worker()
    async with asyncio.timeout(30):
        await worker.wait_idle(within=3600)  # nothing pending: at once
        await harness.sandbox.set_status(partner_id, "Processing")  # flagged, not woken yet
        worker.wake()
        await worker.wait_idle(within=0)  # nobody refreshes it: the bound ends the wait
        assert await harness.events(local_id) == [("Registered", "start")]
        async with worker:  # the worker's loop drains the flag, then is idle
            await worker.wait_idle(within=3600)
            assert await harness.events(local_id) == [
                ("Registered", "start"),
                ("Processing", "notification"),
            ]
