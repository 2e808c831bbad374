"""The sandbox's partner API routes over real HTTP, driven by plain httpx (no client code)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api_client.sandbox import (
    DISABLED_DOCTOR_ID,
    LONG_REPORT_DOCTOR_ID,
    UNAVAILABLE_DOCTOR_ID,
    SandboxConfig,
    SandboxServer,
)
from api_client.sandbox.testing import ManualClock

AUTH = {"Authorization": "Bearer any-token"}
CB = "/api/v1/callbackrequest"
NAIVE_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
PHONE = {"code": "7", "number": "9099708593"}


def start_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "doctorId": 101,
        "patientPhone": dict(PHONE),
        "patientFullName": "Орлов Иван Петрович",
    }
    body.update(overrides)
    return body


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def config(clock: ManualClock) -> SandboxConfig:
    return SandboxConfig(now=clock)


@pytest.fixture
async def server(config: SandboxConfig) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(config) as srv:
        yield srv


@pytest.fixture
async def http(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as client:
        yield client


async def start(http: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await http.post(f"{CB}/start-callback", json=start_body(**overrides))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# ---------------------------------------------------------------------- start-callback
async def test_start_json_answers_a_callback_with_the_real_quirks(
    http: httpx.AsyncClient, server: SandboxServer, clock: ManualClock
) -> None:
    data = await start(http, duration=15)

    assert data["status"] == {"id": "Registered", "name": "Зарегистрирована"}
    assert data["createdAtUtc"] == clock().replace(tzinfo=None).isoformat()
    assert NAIVE_UTC.match(data["createdAtUtc"])
    assert "costPerMinute" not in data
    assert data["costPerMinuite"] == {"amount": 40, "currency": {"id": "RUB", "name": "Рубль"}}
    assert data["patientPhone"] == PHONE
    assert data["patientFullName"] == "Орлов Иван Петрович"
    assert data["doctorFullName"] == "Иванова Мария Петровна"
    assert data["doctor"]["id"] == 101
    assert data["duration"] == 15
    assert [s["status"]["id"] for s in data["statuses"]] == ["Registered"]
    assert data["statuses"][0]["actor"] == {"id": "System", "name": "Система"}
    assert data["calls"] == [] and data["medicalReport"] is None
    assert list(server.sandbox.callbacks) == [data["id"]]


@pytest.mark.parametrize(
    "phone_fields",
    [
        {"patientPhone.code": "7", "patientPhone.number": "9099708593"},
        {"patientPhone[code]": "7", "patientPhone[number]": "9099708593"},
        {"patientPhone": json.dumps(PHONE)},
    ],
    ids=["dotted", "bracket", "json-field"],
)
async def test_start_multipart_keeps_the_attachment_byte_identical(
    http: httpx.AsyncClient, server: SandboxServer, phone_fields: dict[str, str]
) -> None:
    content = bytes(range(256)) * 1000 + os.urandom(4096)  # every byte value, CR/LF included
    response = await http.post(
        f"{CB}/start-callback",
        data={"doctorId": "102", "patientFullName": "Белова Вера Ивановна", **phone_fields},
        files={"attachment": ("анализы крови.pdf", content, "application/pdf")},
    )
    assert response.status_code == 200, response.text
    data = response.json()

    assert data["patientPhone"] == PHONE
    assert data["doctor"]["id"] == 102
    assert server.sandbox.received_attachments[data["id"]] == (
        "анализы крови.pdf",
        "application/pdf",
        content,
    )
    [media] = data["attachments"]
    assert (media["name"], media["mime"], media["size"]) == (
        "анализы крови.pdf",
        "application/pdf",
        len(content),
    )


async def test_start_multipart_without_attachment_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"{CB}/start-callback",
        data={"doctorId": "101", "patientFullName": "Жуков Роман", "duration": "20"},
        files={"patientPhone": (None, json.dumps(PHONE))},
    )
    assert response.status_code == 200, response.text
    assert response.json()["duration"] == 20
    assert response.json()["attachments"] == []


async def test_attachment_over_the_limit_is_refused() -> None:
    async with (
        SandboxServer(SandboxConfig(max_attachment_bytes=1000)) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH) as http,
    ):
        response = await http.post(
            f"{CB}/start-callback",
            data={"doctorId": "101", "patientFullName": "Х", "patientPhone.code": "7",
                  "patientPhone.number": "9099708593"},
            files={"attachment": ("big.bin", b"x" * 1001, "application/octet-stream")},
        )
        assert response.status_code == 400
        assert response.json()["type"] == "limit_exceeded"
        assert response.json()["value"] == "attachment"
        assert server.sandbox.callbacks == {}


async def test_begin_at_with_offset_is_stored_in_utc_and_starts_registered(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    # 13:00 in Moscow (UTC+3) is 10:00 UTC, an hour after the clock's 09:00 UTC.
    moscow = (clock() + timedelta(hours=4)).replace(tzinfo=None).isoformat()
    data = await start(http, beginAtUtc=moscow + "+03:00")
    expected = (clock() + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert data["beginAtUtc"] == expected
    assert data["status"]["id"] == "Registered"


@pytest.mark.parametrize(
    ("overrides", "status", "type_", "value"),
    [
        ({"doctorId": None}, 400, "bad_argument", "doctorId"),
        ({"doctorId": "abc"}, 400, "bad_argument", "doctorId"),
        ({"patientPhone": {"code": "7", "number": "12"}}, 400, "bad_argument", "patientPhone"),
        ({"patientPhone": {"code": "x7", "number": "9099708593"}}, 400, "bad_argument",
         "patientPhone"),
        ({"patientPhone": "+79099708593"}, 400, "bad_argument", "patientPhone"),
        ({"patientFullName": "   "}, 400, "bad_argument", "patientFullName"),
        ({"duration": 0}, 400, "bad_argument", "duration"),
        ({"duration": "long"}, 400, "bad_argument", "duration"),
        ({"beginAtUtc": "tomorrow"}, 400, "bad_argument", "beginAtUtc"),
        ({"beginAtUtc": "2026-03-02T08:00:00"}, 400, "bad_argument", "beginAtUtc"),
        ({"externalNotificationUrl": "ftp://x/y"}, 400, "bad_argument",
         "externalNotificationUrl"),
        ({"doctorId": 999}, 404, "not_found", "doctor"),
        ({"doctorId": DISABLED_DOCTOR_ID}, 409, "conflict", "consultationType"),
        ({"doctorId": UNAVAILABLE_DOCTOR_ID}, 400, "limit_exceeded", "doctor"),
    ],
)
async def test_start_refusals_carry_the_real_error_body(
    http: httpx.AsyncClient,
    server: SandboxServer,
    overrides: dict[str, Any],
    status: int,
    type_: str,
    value: str,
) -> None:
    # The clock stands at 09:00 UTC: 08:00 is an hour in the past.
    response = await http.post(f"{CB}/start-callback", json=start_body(**overrides))
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"type", "value", "description"}
    assert (body["type"], body["value"]) == (type_, value)
    assert body["description"]
    assert server.sandbox.callbacks == {}


async def test_begin_at_within_the_grace_is_accepted(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    just_gone = (clock() - timedelta(seconds=30)).replace(tzinfo=None).isoformat()
    data = await start(http, beginAtUtc=just_gone)
    assert data["beginAtUtc"] == just_gone


# ---------------------------------------------------------------------- get
async def test_get_returns_the_same_consultation_and_404_for_unknown(
    http: httpx.AsyncClient,
) -> None:
    started = await start(http)
    got = await http.get(f"{CB}/get/{started['id']}")
    assert got.status_code == 200
    assert got.json() == started

    missing = await http.get(f"{CB}/get/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["type"] == "not_found"
    assert missing.json()["value"] == "callbackrequest"


async def test_item_wrapper_wraps_single_objects_only() -> None:
    async with (
        SandboxServer(SandboxConfig(item_wrapper=True)) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH) as http,
    ):
        started = (await http.post(f"{CB}/start-callback", json=start_body())).json()
        assert set(started) == {"item"}
        got = (await http.get(f"{CB}/get/{started['item']['id']}")).json()
        assert got["item"]["id"] == started["item"]["id"]
        doctor = (await http.get("/api/v1/doctor/get/101")).json()
        assert doctor["item"]["id"] == 101
        page = (await http.get(f"{CB}/get-all")).json()
        assert set(page) == {"items", "count", "totalCount"}


async def test_long_report_doctor_writes_more_than_5000_characters(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    long_one = await start(http, doctorId=LONG_REPORT_DOCTOR_ID)
    short_one = await start(http)
    await server.sandbox.set_status(long_one["id"], "Processed")
    await server.sandbox.set_status(short_one["id"], "Processed")

    long_text = (await http.get(f"{CB}/get/{long_one['id']}")).json()["medicalReport"]["text"]
    short_text = (await http.get(f"{CB}/get/{short_one['id']}")).json()["medicalReport"]["text"]
    assert len(long_text) > 5000
    assert 0 < len(short_text) < 500

    server.sandbox.set_report(short_one["id"], "Заключение: здоров.")
    got = (await http.get(f"{CB}/get/{short_one['id']}")).json()
    assert got["medicalReport"]["text"] == "Заключение: здоров."


# ---------------------------------------------------------------------- get-all
async def make_many(http: httpx.AsyncClient, clock: ManualClock, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        ids.append((await start(http))["id"])
        clock.advance(minutes=1)
    return ids


async def test_get_all_pages_to_the_last_item_newest_first(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    ids = await make_many(http, clock, 23)
    seen: list[str] = []
    offset = 0
    while True:
        page = (await http.get(f"{CB}/get-all", params={"limit": 5, "offset": offset})).json()
        assert page["totalCount"] == 23
        assert page["count"] == len(page["items"])
        if not page["items"]:
            break
        seen += [item["id"] for item in page["items"]]
        offset += page["count"]
    assert seen == list(reversed(ids))  # default: Created, descending
    last_page = (await http.get(f"{CB}/get-all", params={"limit": 5, "offset": 20})).json()
    assert last_page["count"] == 3

    ascending = (await http.get(f"{CB}/get-all", params={"asc": "true", "limit": 3})).json()
    assert [i["id"] for i in ascending["items"]] == ids[:3]


async def test_get_all_filters_by_repeated_ids_and_statuses(
    http: httpx.AsyncClient, server: SandboxServer, clock: ManualClock
) -> None:
    ids = await make_many(http, clock, 6)
    await server.sandbox.set_status(ids[1], "PreProcessing", "Processing")
    await server.sandbox.set_status(ids[2], "PreProcessing", "Processing")
    await server.sandbox.set_status(ids[3], "Unsuccessful")

    by_ids = (
        await http.get(f"{CB}/get-all", params=[("ids", ids[0]), ("ids", ids[4]),
                                                 ("ids", "no-such-id")])
    ).json()
    assert {i["id"] for i in by_ids["items"]} == {ids[0], ids[4]}
    assert by_ids["totalCount"] == 2

    by_status = (
        await http.get(f"{CB}/get-all", params=[("statuses", "Processing"),
                                                 ("statuses", "Unsuccessful")])
    ).json()
    assert {i["id"] for i in by_status["items"]} == {ids[1], ids[2], ids[3]}

    both = (
        await http.get(f"{CB}/get-all", params=[("ids", ids[1]), ("ids", ids[3]),
                                                 ("statuses", "Processing")])
    ).json()
    assert [i["id"] for i in both["items"]] == [ids[1]]


async def test_get_all_orders_by_status(
    http: httpx.AsyncClient, server: SandboxServer, clock: ManualClock
) -> None:
    ids = await make_many(http, clock, 3)
    await server.sandbox.set_status(ids[0], "Processed")
    await server.sandbox.set_status(ids[2], "Processing")
    page = (await http.get(f"{CB}/get-all", params={"order": "Status", "asc": "true"})).json()
    assert [i["status"]["id"] for i in page["items"]] == ["Registered", "Processing", "Processed"]


@pytest.mark.parametrize(
    ("params", "value"),
    [
        ({"order": "Name"}, "order"),
        ({"asc": "maybe"}, "asc"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"statuses": "Sleeping"}, "statuses"),
    ],
)
async def test_get_all_rejects_bad_parameters(
    http: httpx.AsyncClient, params: dict[str, str], value: str
) -> None:
    response = await http.get(f"{CB}/get-all", params=params)
    assert response.status_code == 400
    assert response.json()["type"] == "bad_argument"
    assert response.json()["value"] == value


async def test_get_all_clamps_a_huge_limit_but_tells_the_truth(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    server.sandbox.seed_callbacks(130)
    page = (await http.get(f"{CB}/get-all", params={"limit": 1000})).json()
    assert page["count"] == 100
    assert page["totalCount"] == 130


# ---------------------------------------------------------------------- terminate
async def test_terminate_then_409_on_a_final_one(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    started = await start(http)
    response = await http.post(f"{CB}/terminate-callback", json={"requestId": started["id"]})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    got = (await http.get(f"{CB}/get/{started['id']}")).json()
    assert got["status"] == {"id": "Unsuccessful", "name": "Не состоялась"}
    assert got["statuses"][-1]["actor"]["id"] == "System"

    again = await http.post(f"{CB}/terminate-callback", json={"requestId": started["id"]})
    assert again.status_code == 409
    assert again.json()["type"] == "conflict"


async def test_terminate_accepts_a_form_and_refuses_unknown_or_missing_ids(
    http: httpx.AsyncClient,
) -> None:
    started = await start(http)
    form = await http.post(f"{CB}/terminate-callback", data={"requestId": started["id"]})
    assert form.json() == {"success": True}

    unknown = await http.post(f"{CB}/terminate-callback", json={"requestId": "nope"})
    assert (unknown.status_code, unknown.json()["value"]) == (404, "callbackrequest")
    missing = await http.post(f"{CB}/terminate-callback", json={})
    assert (missing.status_code, missing.json()["value"]) == (400, "requestId")


# ---------------------------------------------------------------------- doctors
async def test_doctor_routes_serve_the_seeded_doctors(http: httpx.AsyncClient) -> None:
    doctor = (await http.get("/api/v1/doctor/get/101")).json()
    assert doctor["lastName"] == "Иванова"
    [callback_type] = [c for c in doctor["consultationTypes"] if c["type"]["id"] == "Callback"]
    assert callback_type["cost"]["currency"]["id"] == "RUB"

    seen: list[int] = []
    offset = 0
    while True:
        page = (await http.get("/api/v1/doctor/get-all",
                               params={"limit": 5, "offset": offset})).json()
        if not page["items"]:
            break
        assert page["totalCount"] >= 12
        seen += [d["id"] for d in page["items"]]
        offset += page["count"]
    assert seen == list(range(101, 101 + len(seen)))
    assert len(seen) >= 12

    disabled = (await http.get(f"/api/v1/doctor/get/{DISABLED_DOCTOR_ID}")).json()
    assert any(c["isDisabled"] for c in disabled["consultationTypes"])
    unavailable = (await http.get(f"/api/v1/doctor/get/{UNAVAILABLE_DOCTOR_ID}")).json()
    assert any(not c["isAvailable"] for c in unavailable["consultationTypes"])


async def test_doctor_filters_and_unknown_doctor(http: httpx.AsyncClient) -> None:
    by_name = (await http.get("/api/v1/doctor/get-all", params={"lastName": "смир"})).json()
    assert [d["lastName"] for d in by_name["items"]] == ["Смирнов"]
    cardiologists = (
        await http.get("/api/v1/doctor/get-all", params=[("specialtyIds", "3"),
                                                          ("specialtyIds", "10")])
    ).json()
    assert cardiologists["totalCount"] == 3
    for d in cardiologists["items"]:
        assert {s["id"] for s in d["specialties"]} & {3, 10}

    missing = await http.get("/api/v1/doctor/get/999")
    assert missing.status_code == 404
    assert (missing.json()["type"], missing.json()["value"]) == ("not_found", "doctor")


async def test_doctor_routes_switched_off_answer_a_non_api_404() -> None:
    async with (
        SandboxServer(SandboxConfig(doctor_routes=False)) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH) as http,
    ):
        for path in ("/api/v1/doctor/get/101", "/api/v1/doctor/get-all"):
            response = await http.get(path)
            assert response.status_code == 404
            assert not response.headers["content-type"].startswith("application/json")
        assert [r.route for r in server.sandbox.requests] == [None, None]


# ---------------------------------------------------------------------- 414
async def test_a_url_longer_than_the_limit_gets_414(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    prefix = f"{CB}/get-all?limit=10&x="
    at_limit = prefix + "a" * (2048 - len(prefix))
    ok = await http.get(at_limit)
    assert ok.status_code == 200

    too_long = await http.get(at_limit + "a")
    assert too_long.status_code == 414
    assert "json" not in too_long.headers["content-type"]
    assert [r.fault for r in server.sandbox.requests] == [None, "414"]
