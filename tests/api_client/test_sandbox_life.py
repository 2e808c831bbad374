"""The sandbox's life: notifications, the control API (Python and HTTP), the pace-driven
status walk, seeded data and the standalone entry point."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from api_client.sandbox import (
    STATUS_ORDER,
    SandboxConfig,
    SandboxServer,
)
from api_client.sandbox.testing import ManualClock, ManualPace, NotificationReceiver

AUTH = {"Authorization": "Bearer any-token"}
CB = "/api/v1/callbackrequest"


@pytest.fixture
async def receiver() -> AsyncIterator[NotificationReceiver]:
    async with NotificationReceiver() as rec:
        yield rec


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def server(clock: ManualClock) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(now=clock)) as srv:
        yield srv


async def start(server: SandboxServer, url: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "doctorId": 101,
        "patientPhone": {"code": "7", "number": "9099708593"},
        "patientFullName": "Тарасов Максим",
        **extra,
    }
    if url:
        body["externalNotificationUrl"] = url
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as http:
        response = await http.post(f"{CB}/start-callback", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# ---------------------------------------------------------------------- notifications
async def test_set_status_appends_every_status_and_fires_exactly_one_plain_get(
    server: SandboxServer, receiver: NotificationReceiver
) -> None:
    cb = await start(server, receiver.url_for("tok1"))
    assert receiver.hits == []  # creation is not a change

    record = await server.sandbox.set_status(cb["id"], "PreProcessing", "Processing")

    # set_status returns after the GET completed: the hit is already there.
    assert len(receiver.hits) == 1
    [hit] = receiver.hits
    assert (hit.key, hit.method, hit.query, hit.body) == ("tok1", "GET", "", b"")
    assert [s.status for s in record.statuses] == ["Registered", "PreProcessing", "Processing"]

    assert await server.sandbox.notify(cb["id"]) == 200  # a duplicate, no change
    assert len(receiver.hits) == 2
    assert [n.status for n in server.sandbox.notifications] == ["Processing", "Processing"]


async def test_set_status_without_notify_fires_nothing(
    server: SandboxServer, receiver: NotificationReceiver
) -> None:
    cb = await start(server, receiver.url_for("quiet"))
    await server.sandbox.set_status(cb["id"], "PreProcessing", notify=False)
    await server.sandbox.set_status(cb["id"], "Processing")
    assert len(receiver.hits) == 1
    assert server.sandbox.callbacks[cb["id"]].status == "Processing"


async def test_processed_brings_report_call_timeline_and_charge(server: SandboxServer) -> None:
    cb = await start(server, duration=5)
    await server.sandbox.set_status(cb["id"], "PreProcessing", "Processing", "PostProcessing",
                                    "Processed")
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as http:
        data = (await http.get(f"{CB}/get/{cb['id']}")).json()
    assert data["status"] == {"id": "Processed", "name": "Завершена"}
    assert [s["status"]["id"] for s in data["statuses"]] == [
        "Registered", "PreProcessing", "Processing", "PostProcessing", "Processed",
    ]
    [call] = data["calls"]
    assert call["successful"] is True and 0 < call["duration"] <= 5 * 60
    assert data["medicalReport"]["text"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", data["medicalReport"]["createdAtUtc"])
    assert {t["type"]["id"] for t in data["timeline"]} >= {"Accepted", "Ended"}
    assert data["transactions"][0]["amount"]["currency"]["id"] == "RUB"


async def test_a_test_can_wait_for_a_fired_get_instead_of_polling(
    server: SandboxServer, receiver: NotificationReceiver
) -> None:
    cb = await start(server, receiver.url_for("tok1"))
    sandbox = server.sandbox

    def processing(n: Any) -> bool:
        return bool(n.callback_id == cb["id"] and n.status == "Processing")

    waiting = asyncio.create_task(sandbox.wait_for_notification(processing))
    assert sandbox.notifications == [] and not waiting.done()
    await sandbox.set_status(cb["id"], "PreProcessing")  # fires a GET that does not match
    assert not waiting.done()
    await sandbox.set_status(cb["id"], "Processing")
    async with asyncio.timeout(5):
        note = await waiting
    assert (note.callback_id, note.status, note.http_status) == (cb["id"], "Processing", 200)
    # One already fired answers at once; nothing is left waiting.
    async with asyncio.timeout(5):
        assert await sandbox.wait_for_notification(processing) == note
    assert sandbox._notified == set()


async def test_unsuccessful_records_an_unsuccessful_call(server: SandboxServer) -> None:
    cb = await start(server)
    record = await server.sandbox.set_status(cb["id"], "PreProcessing", "Unsuccessful")
    assert record.statuses[-1].actor == "Patient"
    assert [(c.successful, c.actor) for c in record.calls] == [(False, "Patient")]


async def test_a_failing_receiver_is_logged_not_fatal(
    server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A port nobody listens on: take a free one from a receiver that is then closed.
    async with NotificationReceiver() as gone:
        dead_url = gone.url_for("secret-token-123")
    cb = await start(server, dead_url)
    record = await server.sandbox.set_status(cb["id"], "PreProcessing")
    assert record.status == "PreProcessing"
    [note] = server.sandbox.notifications
    assert note.http_status is None and note.error
    assert "secret-token-123" not in caplog.text  # the URL carries the receiver's secret
    assert "9099708593" not in caplog.text and "Тарасов" not in caplog.text


async def test_receiver_answering_500_is_recorded(server: SandboxServer) -> None:
    async with NotificationReceiver(status=500) as failing:
        cb = await start(server, failing.url_for("k"))
        assert await server.sandbox.notify(cb["id"]) == 500
        assert server.sandbox.notifications[-1].http_status == 500


async def test_terminate_over_http_fires_the_get(
    server: SandboxServer, receiver: NotificationReceiver
) -> None:
    cb = await start(server, receiver.url_for("t"))
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as http:
        response = await http.post(f"{CB}/terminate-callback", json={"requestId": cb["id"]})
    assert response.json() == {"success": True}
    await receiver.wait_for(1, key="t")
    assert server.sandbox.notifications[-1].status == "Unsuccessful"


# ---------------------------------------------------------------------- control over HTTP
async def test_control_routes(server: SandboxServer, receiver: NotificationReceiver) -> None:
    cb = await start(server, receiver.url_for("c"))
    async with httpx.AsyncClient(base_url=server.url) as http:
        moved = await http.post(f"/_sandbox/callbacks/{cb['id']}/status",
                                json={"statuses": ["PreProcessing", "Processing"],
                                      "notify": True})
        assert moved.status_code == 200
        assert moved.json()["status"]["id"] == "Processing"
        assert len(receiver.hits) == 1

        again = await http.post(f"/_sandbox/callbacks/{cb['id']}/notify")
        assert again.json() == {"httpStatus": 200}
        assert len(receiver.hits) == 2

        report = await http.post(f"/_sandbox/callbacks/{cb['id']}/report",
                                 json={"text": "Долгое заключение"})
        assert report.status_code == 200
        await http.post(f"/_sandbox/callbacks/{cb['id']}/status",
                        json={"statuses": ["Processed"], "notify": False})
        assert server.sandbox.callbacks[cb["id"]].report is not None
        assert server.sandbox.callbacks[cb["id"]].report[0] == "Долгое заключение"  # type: ignore[index]

        missing = await http.post("/_sandbox/callbacks/nope/notify")
        assert missing.status_code == 404

        seeded = await http.post("/_sandbox/seed", json={"n": 7, "seed": 3})
        assert len(seeded.json()["ids"]) == 7
        notes = (await http.get("/_sandbox/notifications")).json()
        assert [n["status"] for n in notes] == ["Processing", "Processing"]

        # Control calls are not API calls: only the start was recorded.
        recorded = (await http.get("/_sandbox/requests")).json()
        assert [r["route"] for r in recorded] == ["start"]
        await http.delete("/_sandbox/requests")
        assert server.sandbox.requests == []


# ---------------------------------------------------------------------- life with a pace
async def test_pace_walks_a_consultation_to_processed(
    receiver: NotificationReceiver,
) -> None:
    async with SandboxServer(SandboxConfig(pace=0.01)) as server:
        cb = await start(server, receiver.url_for("life"))
        await receiver.wait_for(4, key="life")
        record = server.sandbox.callbacks[cb["id"]]
        assert [s.status for s in record.statuses] == [
            "Registered", "PreProcessing", "Processing", "PostProcessing", "Processed",
        ]
        assert record.report is not None
        assert [c.successful for c in record.calls] == [True]
        assert [n.status for n in server.sandbox.notifications] == [
            "PreProcessing", "Processing", "PostProcessing", "Processed",
        ]


async def test_a_manual_status_during_a_pace_step_is_never_undone(
    receiver: NotificationReceiver, clock: ManualClock
) -> None:
    pace = ManualPace()
    async with SandboxServer(SandboxConfig(pace=30, sleep=pace, now=clock)) as server:
        cb = await start(server, receiver.url_for("race"))
        record = server.sandbox.callbacks[cb["id"]]
        await pace.sleeping(1)  # the life waits for its first step (Registered → …)

        clock.advance(seconds=5)
        await server.sandbox.set_status(cb["id"], "Processing")  # a manual move meanwhile
        assert len(receiver.hits) == 1

        clock.advance(seconds=25)
        assert pace.release() == 1
        await receiver.wait_for(2, key="race")
        # The step after the sleep goes on from Processing, not back to PreProcessing.
        assert [s.status for s in record.statuses] == [
            "Registered", "Processing", "PostProcessing",
        ]
        await pace.sleeping(1)
        pace.release()
        await receiver.wait_for(3, key="race")
        assert [s.status for s in record.statuses][-1] == "Processed"
        assert [n.status for n in server.sandbox.notifications] == [
            "Processing", "PostProcessing", "Processed",
        ]
        assert pace.delays == [30, 30]


async def test_a_scheduled_time_set_during_a_pace_step_is_waited_for(
    receiver: NotificationReceiver, clock: ManualClock
) -> None:
    pace = ManualPace()
    async with SandboxServer(SandboxConfig(pace=30, sleep=pace, now=clock)) as server:
        cb = await start(server, receiver.url_for("d"))
        record = server.sandbox.callbacks[cb["id"]]
        await pace.sleeping(1)
        # Moved to Delayed by hand with its time an hour ahead, during the step.
        record.begin_at = clock() + timedelta(hours=1)
        await server.sandbox.set_status(cb["id"], "Delayed")
        pace.release()
        await pace.sleeping(1)  # waits for beginAtUtc instead of stepping on
        assert [s.status for s in record.statuses] == ["Registered", "Delayed"]
        assert len(receiver.hits) == 1


async def test_unsuccessful_share_ends_unsuccessful(receiver: NotificationReceiver) -> None:
    async with SandboxServer(SandboxConfig(pace=0.01, unsuccessful_share=1.0)) as server:
        cb = await start(server, receiver.url_for("fail"))
        await receiver.wait_for(3, key="fail")
        record = server.sandbox.callbacks[cb["id"]]
        assert record.status == "Unsuccessful"
        assert [(c.successful, c.actor) for c in record.calls] == [(False, "Patient")]
        assert record.report is None


async def test_a_scheduled_consultation_waits_in_delayed_until_its_time(
    receiver: NotificationReceiver, clock: ManualClock
) -> None:
    async with SandboxServer(SandboxConfig(pace=0.01, now=clock)) as server:
        begin = (clock() + timedelta(hours=1)).replace(tzinfo=None).isoformat()
        cb = await start(server, receiver.url_for("later"), beginAtUtc=begin)
        await receiver.wait_for(1, key="later")
        assert server.sandbox.callbacks[cb["id"]].status == "Delayed"
        with pytest.raises(TimeoutError):
            await receiver.wait_for(2, key="later", within=0.2)

        clock.advance(hours=1)
        await receiver.wait_for(5, key="later")
        assert server.sandbox.callbacks[cb["id"]].status == "Processed"


async def test_terminate_stops_the_life_and_shutdown_cancels_it(
    receiver: NotificationReceiver,
) -> None:
    async with SandboxServer(SandboxConfig(pace=60)) as server:
        a = await start(server, receiver.url_for("a"))
        b = await start(server)
        assert set(server.sandbox._life) == {a["id"], b["id"]}
        server.sandbox.terminate(a["id"])
        assert set(server.sandbox._life) == {b["id"]}
        task = server.sandbox._life[b["id"]]
    assert task.cancelled()
    assert server.sandbox._life == {}


async def test_manual_final_status_stops_the_life() -> None:
    async with SandboxServer(SandboxConfig(pace=60)) as server:
        cb = await start(server)
        task = server.sandbox._life[cb["id"]]
        await server.sandbox.set_status(cb["id"], "Processed")
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cb["id"] not in server.sandbox._life


# ---------------------------------------------------------------------- seeded data
def test_seed_callbacks_covers_every_status_in_the_past_deterministically(
    clock: ManualClock,
) -> None:
    from api_client.sandbox import Sandbox

    sandbox = Sandbox(SandboxConfig(now=clock))
    ids = sandbox.seed_callbacks(21, seed=5, phone="+79099708593")
    records = [sandbox.callbacks[i] for i in ids]

    assert {r.status for r in records} == set(STATUS_ORDER)
    assert all(r.created_at < clock() for r in records)
    assert all(clock() - r.created_at <= timedelta(days=14) for r in records)
    assert len({r.doctor_id for r in records}) > 3
    assert len({r.patient_name for r in records}) > 5
    assert sum(r.phone == ("7", "9099708593") for r in records) == 7
    for r in records:
        if r.status == "Processed":
            assert r.report is not None and any(c.successful for c in r.calls)
        if r.status == "Delayed":
            assert r.begin_at is not None and r.begin_at > clock()
        times = [s.at for s in r.statuses]
        assert times == sorted(times)

    twin = Sandbox(SandboxConfig(now=clock))
    twin_ids = twin.seed_callbacks(21, seed=5, phone="+79099708593")
    assert [twin.callbacks[i].patient_name for i in twin_ids] == [r.patient_name for r in records]
    assert [twin.callbacks[i].status for i in twin_ids] == [r.status for r in records]


async def test_seeded_consultations_are_served(server: SandboxServer) -> None:
    server.sandbox.seed_callbacks(14, seed=1, phone=("7", "9161112233"))
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as http:
        page = (await http.get(f"{CB}/get-all", params={"limit": 100})).json()
    assert page["totalCount"] == 14
    created = [datetime.fromisoformat(i["createdAtUtc"]) for i in page["items"]]
    assert created == sorted(created, reverse=True)
    assert sum(i["patientPhone"]["number"] == "9161112233" for i in page["items"]) == 5


# ---------------------------------------------------------------------- standalone
async def test_standalone_module_serves_over_http() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api_client.sandbox", "--port", "0", "--pace", "0",
        "--no-doctor-routes", "--seed-callbacks", "3",
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        url = None
        async with asyncio.timeout(20):
            while url is None:
                line = (await process.stderr.readline()).decode()
                assert line, "the sandbox exited before listening"
                found = re.search(r"listening on (http://\S+)", line)
                url = found.group(1) if found else None
        async with httpx.AsyncClient(base_url=url, headers=AUTH) as http:
            page = (await http.get(f"{CB}/get-all")).json()
            assert page["totalCount"] == 3
            assert (await http.get("/api/v1/doctor/get/101")).status_code == 404
    finally:
        process.terminate()
        await process.wait()
