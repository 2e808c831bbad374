"""Fault injection: every kind, over real HTTP with plain httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api_client.sandbox import SandboxConfig, SandboxServer

AUTH = {"Authorization": "Bearer any-token"}
CB = "/api/v1/callbackrequest"
START_BODY: dict[str, Any] = {
    "doctorId": 101,
    "patientPhone": {"code": "7", "number": "9099708593"},
    "patientFullName": "Козлов Егор",
}


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    # A long hold: the test client's short timeout always fires first.
    async with SandboxServer(SandboxConfig(fault_hold=30)) as srv:
        yield srv


@pytest.fixture
async def http(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=10) as client:
        yield client


async def test_503_answers_a_non_json_body_for_count_requests_then_recovers(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault("get_all", "503", count=2)
    statuses = [(await http.get(f"{CB}/get-all")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [r.fault for r in server.sandbox.requests_for("get_all")] == ["503", "503", None]


async def test_503_bodies_are_not_json(http: httpx.AsyncClient, server: SandboxServer) -> None:
    server.sandbox.inject_fault("get", "503")
    server.sandbox.inject_fault("get", "503", body="")
    first = await http.get(f"{CB}/get/x")
    second = await http.get(f"{CB}/get/x")
    assert first.status_code == second.status_code == 503
    with pytest.raises(ValueError):
        first.json()
    assert second.content == b""


async def test_500_html(http: httpx.AsyncClient, server: SandboxServer) -> None:
    server.sandbox.inject_fault("terminate", "500_html")
    response = await http.post(f"{CB}/terminate-callback", json={"requestId": "x"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html")


async def test_429_carries_retry_after(http: httpx.AsyncClient, server: SandboxServer) -> None:
    server.sandbox.inject_fault("doctor_get_all", "429", retry_after=3)
    response = await http.get("/api/v1/doctor/get-all")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert (await http.get("/api/v1/doctor/get-all")).status_code == 200


async def test_error_kind_answers_a_chosen_api_error(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault(
        "start", "error", status=402, type="insufficient_funds", value="balance",
        description="Not enough money.",
    )
    response = await http.post(f"{CB}/start-callback", json=START_BODY)
    assert response.status_code == 402
    assert response.json() == {
        "type": "insufficient_funds", "value": "balance", "description": "Not enough money.",
    }
    assert server.sandbox.callbacks == {}  # an answering fault does not process the request


async def test_timeout_on_start_loses_the_answer_but_creates_the_consultation(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault("start", "timeout")
    with pytest.raises(httpx.ReadTimeout):
        await http.post(f"{CB}/start-callback", json=START_BODY, timeout=0.3)

    assert len(server.sandbox.requests_for("start")) == 1
    page = (await http.get(f"{CB}/get-all")).json()
    assert page["totalCount"] == 1
    assert page["items"][0]["patientPhone"] == START_BODY["patientPhone"]


async def test_drop_on_start_closes_the_connection_after_creating(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault("start", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post(f"{CB}/start-callback", json=START_BODY)
    assert len(server.sandbox.callbacks) == 1
    # The next request is served normally.
    assert (await http.post(f"{CB}/start-callback", json=START_BODY)).status_code == 200
    assert len(server.sandbox.callbacks) == 2


async def test_drop_on_a_get(http: httpx.AsyncClient, server: SandboxServer) -> None:
    server.sandbox.inject_fault("doctor_get", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get("/api/v1/doctor/get/101")
    assert (await http.get("/api/v1/doctor/get/101")).status_code == 200


async def test_a_fault_touches_only_its_route(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault("terminate", "503")
    assert (await http.get(f"{CB}/get-all")).status_code == 200
    assert (await http.post(f"{CB}/start-callback", json=START_BODY)).status_code == 200
    assert server.sandbox.faults.pending("terminate") == 1


async def test_faults_through_the_control_route(
    http: httpx.AsyncClient, server: SandboxServer
) -> None:
    added = await http.post("/_sandbox/faults", json={"route": "get_all", "kind": "429",
                                                      "count": 1, "retry_after": 7})
    assert added.status_code == 200
    response = await http.get(f"{CB}/get-all")
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")

    bad = await http.post("/_sandbox/faults", json={"route": "get_all", "kind": "explode"})
    assert bad.status_code == 400

    await http.post("/_sandbox/faults", json={"route": "get", "kind": "503", "count": 5})
    assert (await http.delete("/_sandbox/faults")).status_code == 200
    assert server.sandbox.faults.pending("get") == 0

    recorded = (await http.get("/_sandbox/requests")).json()
    assert [(r["route"], r["method"], r["fault"]) for r in recorded] == [("get_all", "GET", "429")]
    assert recorded[0]["pathQs"] == f"{CB}/get-all"


def test_unknown_route_or_kind_is_refused_early() -> None:
    from api_client.sandbox import Sandbox

    sandbox = Sandbox()
    with pytest.raises(ValueError):
        sandbox.inject_fault("nowhere", "503")
    with pytest.raises(ValueError):
        sandbox.inject_fault("get", "boom")
    with pytest.raises(ValueError):
        sandbox.inject_fault("get", "503", count=0)
