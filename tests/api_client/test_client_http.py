"""PartnerApiClient at the HTTP level, against an in-memory transport (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
import pytest

from api_client import (
    ApiUnavailable,
    Attachment,
    AttachmentTooLarge,
    AuthError,
    BadArgument,
    Conflict,
    InsufficientFunds,
    NotFound,
    OAuthTokenProvider,
    OutcomeUnknown,
    PartnerApiClient,
    Phone,
    PhoneFormField,
    RequestStatus,
    RetryPolicy,
    RouteUnavailable,
    ServerError,
    StaticTokenProvider,
    TokenPair,
)
from tests.api_client.conftest import (
    BASE_URL,
    ClientFactory,
    MockApi,
    RecordingSleep,
    callback_payload,
    error_body,
    json_response,
)

PHONE = Phone(code="7", number="9099708593")
PATIENT = "Иванов Иван Иванович"
START = "/api/v1/callbackrequest/start-callback"


def multipart_fields(request: httpx.Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """name → (filename, content type, bytes) of every part of a multipart request."""
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(raw + request.content)
    assert message.is_multipart()
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        ctype = part.get("content-type")
        parts[name] = (part.get_filename(), str(ctype) if ctype else None, payload)
    return parts


# ---------------------------------------------------------------- start-callback


async def test_start_sends_json_with_camel_case_keys(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: json_response(200, callback_payload("new-1"))
    msk = timezone(timedelta(hours=3))
    async with make_client() as api:
        cb = await api.start_callback(
            101, PHONE, PATIENT,
            begin_at=datetime(2026, 11, 28, 15, 30, tzinfo=msk),
            duration_min=20, notification_url="https://bot.example/hooks/callback/tok",
        )
    assert cb.id == "new-1"
    (request,) = mock_api.requests
    assert request.method == "POST" and request.url.path == START
    assert request.headers["authorization"] == "Bearer tok-static"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "doctorId": 101,
        "patientPhone": {"code": "7", "number": "9099708593"},
        "patientFullName": PATIENT,
        "beginAtUtc": "2026-11-28T12:30:00+00:00",  # Moscow 15:30 sent as UTC, explicit offset
        "duration": 20,
        "externalNotificationUrl": "https://bot.example/hooks/callback/tok",
    }


async def test_start_without_optional_fields_omits_them(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: json_response(200, {"item": callback_payload("new-2")})
    async with make_client() as api:
        cb = await api.start_callback(101, PHONE, PATIENT)
    assert cb.id == "new-2"
    assert set(json.loads(mock_api.requests[0].content)) == {
        "doctorId", "patientPhone", "patientFullName"}


async def test_start_with_naive_begin_at_is_refused_before_sending(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    async with make_client() as api:
        with pytest.raises(ValueError, match="timezone-aware"):
            await api.start_callback(101, PHONE, PATIENT, begin_at=datetime(2026, 11, 28, 12))
        with pytest.raises(ValueError):
            await api.start_callback(101, PHONE, PATIENT, duration_min=0)
    assert mock_api.requests == []


async def test_start_multipart_carries_the_attachment_and_dotted_phone(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: json_response(200, callback_payload("new-3"))
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 40
    async with make_client() as api:
        await api.start_callback(
            101, PHONE, PATIENT, begin_at=datetime(2026, 11, 28, 12, 30, tzinfo=UTC),
            duration_min=15, notification_url="https://bot.example/h/x",
            attachment=Attachment("анализы.pdf", pdf, "application/pdf"),
        )
    (request,) = mock_api.requests
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = multipart_fields(request)
    assert parts["attachment"] == ("анализы.pdf", "application/pdf", pdf)
    assert parts["patientPhone.code"][2] == b"7"
    assert parts["patientPhone.number"][2] == b"9099708593"
    assert parts["doctorId"][2] == b"101"
    assert parts["patientFullName"][2].decode() == PATIENT
    assert parts["beginAtUtc"][2] == b"2026-11-28T12:30:00+00:00"
    assert parts["duration"][2] == b"15"
    assert parts["externalNotificationUrl"][2] == b"https://bot.example/h/x"
    assert "patientPhone" not in parts


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (PhoneFormField.BRACKET,
         {"patientPhone[code]": b"7", "patientPhone[number]": b"9099708593"}),
        (PhoneFormField.JSON, {"patientPhone": b'{"code": "7", "number": "9099708593"}'}),
    ],
)
async def test_start_multipart_phone_alternatives(
    make_client: ClientFactory, mock_api: MockApi, form: PhoneFormField,
    expected: dict[str, bytes],
) -> None:
    mock_api.handler = lambda r: json_response(200, callback_payload())
    async with make_client(phone_form=form) as api:
        await api.start_callback(101, PHONE, PATIENT, attachment=Attachment("a.txt", b"hi"))
    parts = multipart_fields(mock_api.requests[0])
    assert {k: v[2] for k, v in parts.items() if k.startswith("patientPhone")} == expected


async def test_attachment_over_10_mb_is_refused_with_zero_requests(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: json_response(200, callback_payload())
    limit = 10 * 1024 * 1024
    async with make_client() as api:
        with pytest.raises(AttachmentTooLarge) as info:
            await api.start_callback(101, PHONE, PATIENT,
                                     attachment=Attachment("big.bin", b"\0" * (limit + 1)))
        assert mock_api.requests == []
        assert info.value.size == limit + 1 and info.value.limit == limit
        # exactly 10 MB is still allowed
        exactly = Attachment("ok.bin", b"\0" * limit)
        await api.start_callback(101, PHONE, PATIENT, attachment=exactly)
    assert len(mock_api.requests) == 1


@pytest.mark.parametrize(
    "exc_type", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError]
)
async def test_start_answer_lost_after_sending_is_outcome_unknown(
    make_client: ClientFactory, mock_api: MockApi, exc_type: type[httpx.TransportError]
) -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        raise exc_type("answer lost", request=request)

    mock_api.handler = lost
    async with make_client() as api:
        with pytest.raises(OutcomeUnknown) as info:
            await api.start_callback(101, PHONE, PATIENT)
    assert not isinstance(info.value, ApiUnavailable)
    assert len(mock_api.requests) == 1  # never repeated


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_start_that_never_left_is_unavailable_not_unknown(
    make_client: ClientFactory, mock_api: MockApi, exc_type: type[httpx.TransportError]
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise exc_type("no connection", request=request)

    mock_api.handler = refused
    async with make_client() as api:
        with pytest.raises(ApiUnavailable):
            await api.start_callback(101, PHONE, PATIENT)
    assert len(mock_api.requests) == 1  # still not retried: the caller decides


async def test_start_503_is_a_definite_failure_and_not_retried(
    make_client: ClientFactory, mock_api: MockApi, recording_sleep: RecordingSleep
) -> None:
    mock_api.handler = lambda r: httpx.Response(503, text="<html>Service Unavailable</html>")
    async with make_client() as api:
        with pytest.raises(ApiUnavailable) as info:
            await api.start_callback(101, PHONE, PATIENT)
    assert info.value.status == 503
    assert len(mock_api.requests) == 1 and recording_sleep.delays == []


@pytest.mark.parametrize("status", [502, 504])
async def test_start_gateway_failure_is_outcome_unknown(
    make_client: ClientFactory, mock_api: MockApi, status: int
) -> None:
    mock_api.handler = lambda r: httpx.Response(status, text="Bad Gateway")
    async with make_client() as api:
        with pytest.raises(OutcomeUnknown):
            await api.start_callback(101, PHONE, PATIENT)
    assert len(mock_api.requests) == 1


async def test_start_success_with_unreadable_answer_is_outcome_unknown(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: httpx.Response(200, text="<html>ok</html>")
    async with make_client() as api:
        with pytest.raises(OutcomeUnknown):
            await api.start_callback(101, PHONE, PATIENT)


async def test_start_refusals_map_to_their_errors(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    answers = iter([
        json_response(402, error_body("insufficient_funds")),
        json_response(400, error_body("bad_argument", "patientPhone")),
        json_response(404, error_body("not_found", "doctor")),
    ])
    mock_api.handler = lambda r: next(answers)
    async with make_client() as api:
        with pytest.raises(InsufficientFunds):
            await api.start_callback(101, PHONE, PATIENT)
        with pytest.raises(BadArgument) as bad:
            await api.start_callback(101, PHONE, PATIENT)
        with pytest.raises(NotFound) as missing:
            await api.start_callback(999, PHONE, PATIENT)
    assert bad.value.value == "patientPhone"
    assert missing.value.code == "not_found" and missing.value.value == "doctor"
    assert len(mock_api.requests) == 3


async def test_start_repeated_once_after_token_refresh(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    refreshed: list[str] = []

    async def refresher(pair: TokenPair) -> TokenPair:
        refreshed.append(pair.access_token)
        return TokenPair("fresh", "r2")

    tokens = OAuthTokenProvider("https://auth/token", "c", TokenPair("old", "r1"),
                                http=httpx.AsyncClient(), refresher=refresher)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer old":
            return json_response(403, error_body("oauth", None, "token expired"))
        return json_response(200, callback_payload("after-refresh"))

    mock_api.handler = handler
    async with make_client(tokens) as api:
        cb = await api.start_callback(101, PHONE, PATIENT)
    assert cb.id == "after-refresh"
    assert refreshed == ["old"]
    assert [r.headers["authorization"] for r in mock_api.requests] == [
        "Bearer old", "Bearer fresh"]


async def test_auth_error_when_the_refreshed_token_is_refused_too(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    async def refresher(pair: TokenPair) -> TokenPair:
        return TokenPair(pair.access_token + "+", None)

    tokens = OAuthTokenProvider("https://auth/token", "c", TokenPair("old", "r1"),
                                http=httpx.AsyncClient(), refresher=refresher)
    mock_api.handler = lambda r: json_response(403, error_body("oauth"))
    async with make_client(tokens) as api:
        with pytest.raises(AuthError):
            await api.get_callback("x")
        assert len(mock_api.requests) == 2  # one repeat, no loop
        with pytest.raises(AuthError):
            await api.start_callback(101, PHONE, PATIENT)
    assert len(mock_api.requests) == 4


async def test_forbidden_is_not_refreshed(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(403, error_body("forbidden"))
    async with make_client() as api:
        with pytest.raises(Exception) as info:
            await api.get_callback("x")
    assert type(info.value).__name__ == "Forbidden"
    assert len(mock_api.requests) == 1


# ---------------------------------------------------------------- get / retries


async def test_get_callback_bare_and_wrapped(make_client: ClientFactory, mock_api: MockApi) -> None:
    answers = iter([json_response(200, callback_payload("a")),
                    json_response(200, {"item": callback_payload("b")})])
    mock_api.handler = lambda r: next(answers)
    async with make_client() as api:
        assert (await api.get_callback("a")).id == "a"
        assert (await api.get_callback("b")).id == "b"
    assert mock_api.paths() == ["/api/v1/callbackrequest/get/a", "/api/v1/callbackrequest/get/b"]
    assert all(r.method == "GET" for r in mock_api.requests)


async def test_get_callback_not_found(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(404, error_body("not_found", "callback"))
    async with make_client() as api:
        with pytest.raises(NotFound):
            await api.get_callback("nope")
    assert len(mock_api.requests) == 1


async def test_get_retried_after_two_503s(
    make_client: ClientFactory, mock_api: MockApi, recording_sleep: RecordingSleep
) -> None:
    answers = iter([httpx.Response(503, text="Service Unavailable"),
                    httpx.Response(503, text="<html>busy</html>"),
                    json_response(200, callback_payload("a"))])
    mock_api.handler = lambda r: next(answers)
    async with make_client() as api:
        cb = await api.get_callback("a")
    assert cb.id == "a"
    assert len(mock_api.requests) == 3
    assert len(recording_sleep.delays) == 2
    # full jitter within the exponential caps 0.2 and 0.4
    assert 0 <= recording_sleep.delays[0] <= 0.2 and 0 <= recording_sleep.delays[1] <= 0.4


async def test_get_429_honours_retry_after(
    make_client: ClientFactory, mock_api: MockApi, recording_sleep: RecordingSleep
) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}),
                    json_response(200, callback_payload("a"))])
    mock_api.handler = lambda r: next(answers)
    async with make_client() as api:
        assert (await api.get_callback("a")).id == "a"
    assert recording_sleep.delays == [3.0]
    assert len(mock_api.requests) == 2


async def test_get_429_with_an_insane_retry_after_gives_up_at_once(
    make_client: ClientFactory, mock_api: MockApi, recording_sleep: RecordingSleep
) -> None:
    mock_api.handler = lambda r: httpx.Response(429, headers={"Retry-After": "3600"})
    async with make_client() as api:
        with pytest.raises(ApiUnavailable) as info:
            await api.get_callback("a")
    assert info.value.status == 429 and info.value.retry_after == 3600
    assert recording_sleep.delays == [] and len(mock_api.requests) == 1


@pytest.mark.parametrize("failure", ["timeout", "reset", "502", "504"])
async def test_get_retries_transient_failures(
    make_client: ClientFactory, mock_api: MockApi, failure: str
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            if failure == "timeout":
                raise httpx.ReadTimeout("slow", request=request)
            if failure == "reset":
                raise httpx.ReadError("connection reset", request=request)
            return httpx.Response(int(failure))
        return json_response(200, callback_payload("a"))

    mock_api.handler = handler
    async with make_client() as api:
        assert (await api.get_callback("a")).id == "a"
    assert calls == 2


async def test_get_retries_exhausted_raise_unavailable(
    make_client: ClientFactory, mock_api: MockApi, recording_sleep: RecordingSleep
) -> None:
    mock_api.handler = lambda r: httpx.Response(503, text="down")
    async with make_client() as api:
        with pytest.raises(ApiUnavailable) as info:
            await api.get_callback("a")
    assert len(mock_api.requests) == 4  # RetryPolicy.max_attempts
    assert len(recording_sleep.delays) == 3
    assert info.value.attempts == 4


async def test_get_retries_bounded_in_total_time(mock_api: MockApi) -> None:
    now = [0.0]
    waited: list[float] = []

    async def sleep(delay: float) -> None:
        waited.append(delay)
        now[0] += delay

    def handler(request: httpx.Request) -> httpx.Response:
        now[0] += 4.0  # every attempt takes 4 s before timing out
        raise httpx.ReadTimeout("slow", request=request)

    mock_api.handler = handler
    policy = RetryPolicy(max_attempts=10, total_timeout=10, sleep=sleep, clock=lambda: now[0])
    async with httpx.AsyncClient(transport=httpx.MockTransport(mock_api)) as http:
        api = PartnerApiClient(BASE_URL, StaticTokenProvider("t"), http=http, retry=policy)
        with pytest.raises(ApiUnavailable):
            await api.get_callback("a")
    assert len(mock_api.requests) < 10
    assert now[0] - 4.0 <= 10.0  # no sleep started beyond the budget


async def test_server_error_500_is_not_retried(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: httpx.Response(500, text="<h1>Internal error</h1>")
    async with make_client() as api:
        with pytest.raises(ServerError):
            await api.get_callback("a")
    assert len(mock_api.requests) == 1


# ---------------------------------------------------------------- get-all


async def test_list_callbacks_query_has_repeated_keys(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: json_response(200, {
        "items": [callback_payload("a")], "count": 1, "totalCount": 31})
    async with make_client() as api:
        page = await api.list_callbacks(
            ids=["a", "b"], statuses=[RequestStatus.PROCESSING, "Delayed", "Rescheduled"],
            order="Status", asc=True, limit=5, offset=10,
        )
    assert page.count == 1 and page.total_count == 31 and page.items[0].id == "a"
    url = mock_api.requests[0].url
    assert url.path == "/api/v1/callbackrequest/get-all"
    assert url.params.get_list("ids") == ["a", "b"]
    assert url.params.get_list("statuses") == ["Processing", "Delayed", "Rescheduled"]
    assert "ids=a&ids=b" in str(url) and "statuses=Processing&statuses=Delayed" in str(url)
    assert (url.params["order"], url.params["asc"], url.params["limit"],
            url.params["offset"]) == ("Status", "true", "5", "10")


async def test_list_callbacks_defaults(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(200, {"items": [], "count": 0, "totalCount": 0})
    async with make_client() as api:
        page = await api.list_callbacks()
    assert page.items == []
    params = mock_api.requests[0].url.params
    assert dict(params) == {"order": "Created", "asc": "false", "limit": "10", "offset": "0"}


async def test_iter_callbacks_walks_every_page(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    everything = [callback_payload(f"id-{i:02d}") for i in range(23)]

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        items = everything[offset:offset + limit]
        return json_response(200, {"items": items, "count": len(items), "totalCount": 23})

    mock_api.handler = handler
    async with make_client() as api:
        ids = [cb.id async for cb in api.iter_callbacks(statuses=["Processed"], page_size=10)]
    assert ids == [f"id-{i:02d}" for i in range(23)]
    assert [r.url.params["offset"] for r in mock_api.requests] == ["0", "10", "20"]


async def test_get_many_of_500_ids_stays_under_the_url_limit(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    ids = [str(uuid.UUID(int=i + 1)) for i in range(500)]

    def handler(request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get_list("ids")
        assert int(request.url.params["limit"]) >= len(asked)
        items = [callback_payload(i) for i in asked]
        return json_response(200, {"items": items, "count": len(items),
                                   "totalCount": len(items)})

    mock_api.handler = handler
    async with make_client() as api:
        found = await api.get_many(ids)
    assert [cb.id for cb in found] == ids
    lengths = [len(str(r.url)) for r in mock_api.requests]
    assert max(lengths) <= 1800
    asked = [i for r in mock_api.requests for i in r.url.params.get_list("ids")]
    assert sorted(asked) == sorted(ids)  # each id once, none forgotten
    assert math.ceil(500 / 45) <= len(mock_api.requests) <= math.ceil(500 / 38)
    # batches are filled, not timid: every batch but the last is within one id of the limit
    assert all(n > 1800 - 45 for n in lengths[:-1])


async def test_get_many_respects_a_custom_limit_and_pages_a_capped_server(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    ids = [f"cb-{i:03d}" for i in range(30)]

    def handler(request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get_list("ids")
        offset = int(request.url.params["offset"])
        page = asked[offset:offset + 4]  # this server caps every page at 4 items
        return json_response(200, {"items": [callback_payload(i) for i in page if i != "cb-007"],
                                   "count": len(page), "totalCount": len(asked) - 1})

    mock_api.handler = handler
    async with make_client(max_url_length=300) as api:
        found = await api.get_many(ids)
    assert all(len(str(r.url)) <= 300 for r in mock_api.requests)
    assert [cb.id for cb in found] == [i for i in ids if i != "cb-007"]


@pytest.mark.parametrize("bound", [284, *range(240, 420, 7)])
async def test_get_many_later_pages_stay_under_the_url_limit(
    make_client: ClientFactory, mock_api: MockApi, bound: int
) -> None:
    # A server capping pages at 4: later pages carry offset=4, 8, ... — longer than the
    # offset=0 the batch was first measured with (284 once produced a 285-character URL).
    ids = [f"cb-{i:03d}" for i in range(60)]

    def handler(request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get_list("ids")
        offset = int(request.url.params["offset"])
        page = asked[offset:offset + 4]
        return json_response(200, {"items": [callback_payload(i) for i in page],
                                   "count": len(page), "totalCount": len(asked)})

    mock_api.handler = handler
    async with make_client(max_url_length=bound) as api:
        found = await api.get_many(ids)
    assert [cb.id for cb in found] == ids
    assert max(int(r.url.params["offset"]) for r in mock_api.requests) >= 8
    assert max(len(str(r.url)) for r in mock_api.requests) <= bound


async def test_get_many_drops_an_unreadable_item_instead_of_failing_the_batch(
    make_client: ClientFactory, mock_api: MockApi, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [f"cb-{i:02d}" for i in range(40)]

    def handler(request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get_list("ids")
        items: list[Any] = [callback_payload(i) for i in asked if i != "cb-13"]
        items.insert(13, {"bad": 1, "patientFullName": "Иванов Иван"})  # no id: unreadable
        return json_response(200, {"items": items, "count": len(items),
                                   "totalCount": len(items)})

    mock_api.handler = handler
    with caplog.at_level(logging.WARNING):
        async with make_client() as api:
            found = await api.get_many(ids)
    assert [cb.id for cb in found] == [i for i in ids if i != "cb-13"]
    assert len(mock_api.requests) == 1  # the 40 entries received count as the whole batch
    assert "1 unreadable" in caplog.text and "Иванов" not in caplog.text


async def test_iter_callbacks_pages_past_unreadable_entries(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    everything: list[Any] = [callback_payload(f"id-{i:02d}") for i in range(23)]
    for i in range(10, 20):  # a whole page of entries this code cannot read
        everything[i] = {"odd": i}

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        items = everything[offset:offset + limit]
        return json_response(200, {"items": items, "count": len(items), "totalCount": 23})

    mock_api.handler = handler
    async with make_client() as api:
        ids = [cb.id async for cb in api.iter_callbacks(page_size=10)]
    assert ids == [f"id-{i:02d}" for i in [*range(10), *range(20, 23)]]
    assert [r.url.params["offset"] for r in mock_api.requests] == ["0", "10", "20"]


async def test_get_many_of_nothing_sends_nothing(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    async with make_client() as api:
        assert await api.get_many([]) == []
    assert mock_api.requests == []


# ---------------------------------------------------------------- terminate


async def test_terminate(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(200, {"success": True})
    async with make_client() as api:
        assert await api.terminate_callback("cb-1") is True
    (request,) = mock_api.requests
    assert request.method == "POST"
    assert request.url.path == "/api/v1/callbackrequest/terminate-callback"
    assert json.loads(request.content) == {"requestId": "cb-1"}


async def test_terminate_reports_false(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(200, {"success": False})
    async with make_client() as api:
        assert await api.terminate_callback("cb-1") is False


async def test_terminate_409_on_a_repeat_counts_as_success(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    answers: list[Any] = [httpx.ReadTimeout, json_response(409, error_body("conflict"))]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("lost", request=request)

    mock_api.handler = handler
    async with make_client() as api:
        assert await api.terminate_callback("cb-1") is True
    assert len(mock_api.requests) == 2


async def test_terminate_409_first_time_is_a_conflict(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda r: json_response(409, error_body("conflict"))
    async with make_client() as api:
        with pytest.raises(Conflict):
            await api.terminate_callback("cb-1")
    assert len(mock_api.requests) == 1


# ---------------------------------------------------------------- doctors


DOCTOR = {"id": 101, "lastName": "Петрова", "firstName": "Анна", "middleName": "Сергеевна",
          "consultationTypes": [{"id": 2, "type": {"id": "Callback", "name": "Звонок"}}]}


async def test_get_doctor(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(200, {"item": DOCTOR})
    async with make_client() as api:
        doctor = await api.get_doctor(101)
    assert doctor.full_name == "Петрова Анна Сергеевна"
    assert doctor.callback_type is not None
    assert mock_api.paths() == ["/api/v1/doctor/get/101"]


async def test_unknown_doctor_is_not_found(make_client: ClientFactory, mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(404, error_body("not_found", "doctor"))
    async with make_client() as api:
        with pytest.raises(NotFound) as info:
            await api.get_doctor(999)
    assert not isinstance(info.value, RouteUnavailable)
    assert info.value.code == "not_found" and info.value.value == "doctor"


@pytest.mark.parametrize(
    "body",
    [
        error_body("not_found", "Doctor"),
        error_body("not_found", "doctorId"),
        error_body("not_found", "route"),
        error_body("not_found", None),
        {"error": error_body("not_found", "DOCTOR")},
    ],
)
async def test_any_not_found_error_object_is_not_found_not_a_missing_route(
    make_client: ClientFactory, mock_api: MockApi, body: dict[str, Any]
) -> None:
    # The service answered with its own error object: the route exists, the doctor does not.
    mock_api.handler = lambda r: json_response(404, body)
    async with make_client() as api:
        with pytest.raises(NotFound) as info:
            await api.get_doctor(999)
    assert not isinstance(info.value, RouteUnavailable)


@pytest.mark.parametrize(
    "answer",
    [
        lambda: httpx.Response(404, text="<html>404 - File or directory not found.</html>"),
        lambda: httpx.Response(404),
        lambda: httpx.Response(404, text="  "),
        # ASP.NET Web API's own JSON 404 for an unmapped URL: not the service's error object
        lambda: json_response(404, {"Message": "No HTTP resource was found that matches"}),
        lambda: httpx.Response(405),
        lambda: httpx.Response(501, text="Not Implemented"),
    ],
)
async def test_doctor_routes_missing_are_route_unavailable(
    make_client: ClientFactory, mock_api: MockApi, answer: Any
) -> None:
    mock_api.handler = lambda r: answer()
    async with make_client() as api:
        with pytest.raises(RouteUnavailable):
            await api.get_doctor(101)
        with pytest.raises(RouteUnavailable):
            await api.list_doctors()


async def test_list_doctors_page_or_bare_list(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    answers = iter([
        json_response(200, {"items": [DOCTOR, {**DOCTOR, "id": 102}], "count": 2,
                            "totalCount": 2}),
        json_response(200, [DOCTOR]),
    ])
    mock_api.handler = lambda r: next(answers)
    async with make_client() as api:
        page = await api.list_doctors(last_name="Петрова", first_name="Анна",
                                      specialty_ids=[12, 14], limit=20, offset=40)
        bare = await api.list_doctors()
    assert [d.id for d in page] == [101, 102]
    assert [d.id for d in bare] == [101]
    params = mock_api.requests[0].url.params
    assert params["lastName"] == "Петрова" and params["firstName"] == "Анна"
    assert params.get_list("specialtyIds") == ["12", "14"]
    assert (params["limit"], params["offset"]) == ("20", "40")


# ---------------------------------------------------------------- auth concurrency


async def test_two_concurrent_requests_on_an_expired_token_make_one_refresh(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    token_calls: list[httpx.Request] = []
    both_refused = asyncio.Event()
    refused = 0

    async def token_endpoint(request: httpx.Request) -> httpx.Response:
        token_calls.append(request)
        # hold the exchange until both API requests have been refused with the old token
        await asyncio.wait_for(both_refused.wait(), 5)
        return json_response(200, {"access_token": "new", "token_type": "bearer",
                                   "expires_in": 1209599, "refresh_token": "r2"})

    def api_handler(request: httpx.Request) -> httpx.Response:
        nonlocal refused
        if request.headers["authorization"] == "Bearer old":
            refused += 1
            if refused == 2:
                both_refused.set()
            return json_response(403, error_body("oauth", None, "expired"))
        cb_id = request.url.path.rsplit("/", 1)[-1]
        return json_response(200, callback_payload(cb_id))

    mock_api.handler = api_handler
    stored: list[TokenPair] = []

    async def on_refresh(pair: TokenPair) -> None:
        stored.append(pair)

    async with httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint)) as auth_http:
        tokens = OAuthTokenProvider("https://auth.example.test/token", "client",
                                    TokenPair("old", "r1"), http=auth_http,
                                    on_refresh=on_refresh)
        async with make_client(tokens) as api:
            first, second = await asyncio.gather(api.get_callback("a"), api.get_callback("b"))
    assert (first.id, second.id) == ("a", "b")
    assert len(token_calls) == 1
    assert [p.access_token for p in stored] == ["new"]
    assert sorted(r.headers["authorization"] for r in mock_api.requests) == [
        "Bearer new", "Bearer new", "Bearer old", "Bearer old"]


# ---------------------------------------------------------------- plumbing


async def test_logs_never_carry_patient_data_or_token(
    make_client: ClientFactory, mock_api: MockApi, caplog: pytest.LogCaptureFixture
) -> None:
    answers = iter([json_response(200, callback_payload("cb-9")),
                    httpx.Response(503), json_response(200, callback_payload("cb-9"))])
    mock_api.handler = lambda r: next(answers)
    caplog.set_level(logging.DEBUG, logger="api_client")
    async with make_client(StaticTokenProvider("sekret-token-value")) as api:
        await api.start_callback(101, PHONE, PATIENT,
                                 attachment=Attachment("анализы.pdf", b"data"))
        await api.get_callback("cb-9")
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "cb-9" in text and "route=" in text and "status=" in text and "duration_ms=" in text
    for secret in ("Иванов", "9099708593", "sekret-token-value", "анализы"):
        assert secret not in text
    assert any(getattr(r, "callback_id", None) == "cb-9" for r in caplog.records)


async def test_owned_http_client_is_closed_and_injected_one_is_not(mock_api: MockApi) -> None:
    owned = PartnerApiClient(BASE_URL, StaticTokenProvider("t"))
    async with owned:
        pass
    assert owned._http.is_closed

    async with httpx.AsyncClient(transport=httpx.MockTransport(mock_api)) as http:
        async with PartnerApiClient(BASE_URL, StaticTokenProvider("t"), http=http):
            pass
        assert not http.is_closed


async def test_trailing_slash_of_base_url_is_not_doubled(mock_api: MockApi) -> None:
    mock_api.handler = lambda r: json_response(200, callback_payload("a"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(mock_api)) as http:
        api = PartnerApiClient(BASE_URL + "/", StaticTokenProvider("t"), http=http)
        await api.get_callback("a")
    assert str(mock_api.requests[0].url) == BASE_URL + "/api/v1/callbackrequest/get/a"
