"""PartnerApiClient against the sandbox over real HTTP: every method, every error type,
attachments, paging, batching under the URL limit, lost answers and token refresh."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from api_client import (
    ApiUnavailable,
    Attachment,
    AuthError,
    BadArgument,
    Conflict,
    Forbidden,
    InsufficientFunds,
    LimitExceeded,
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
    exchange_sms_code,
    request_validation_code,
)
from api_client.sandbox import (
    DISABLED_DOCTOR_ID,
    LONG_REPORT_DOCTOR_ID,
    UNAVAILABLE_DOCTOR_ID,
    SandboxConfig,
    SandboxServer,
)
from api_client.sandbox.testing import NotificationReceiver

PHONE = Phone(code="7", number="9099708593")
NAME = "Григорьев Кирилл Олегович"


class NoSleep:
    """Retry delays recorded instead of waited (the tests never sleep)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def no_sleep() -> NoSleep:
    return NoSleep()


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig()


@pytest.fixture
async def server(config: SandboxConfig) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(config) as srv:
        yield srv


def make_client(
    server: SandboxServer, no_sleep: NoSleep, token: str = "any", **kwargs: object
) -> PartnerApiClient:
    return PartnerApiClient(
        server.url,
        StaticTokenProvider(token),
        retry=RetryPolicy(sleep=no_sleep, rng=random.Random(1)),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def api(server: SandboxServer, no_sleep: NoSleep) -> AsyncIterator[PartnerApiClient]:
    async with make_client(server, no_sleep) as client:
        yield client


# ---------------------------------------------------------------------- methods
@pytest.fixture
async def receiver() -> AsyncIterator[NotificationReceiver]:
    async with NotificationReceiver() as rec:
        yield rec


async def test_start_and_get_parse_the_sandbox_answers(
    api: PartnerApiClient, server: SandboxServer, receiver: NotificationReceiver
) -> None:
    begin = datetime.now(UTC) + timedelta(hours=2)
    started = await api.start_callback(
        102, PHONE, NAME, begin_at=begin, duration_min=20,
        notification_url=receiver.url_for("client"),
    )
    assert started.status is not None and started.status.id is RequestStatus.REGISTERED
    assert started.patient_phone == PHONE
    assert started.created_at_utc is not None and started.created_at_utc.tzinfo is not None
    assert started.cost_per_minute is not None and started.cost_per_minute.amount == Decimal(70)
    assert started.doctor is not None and started.doctor.full_name == started.doctor_full_name
    assert started.doctor.callback_type is not None

    await server.sandbox.set_status(
        started.id, "PreProcessing", "Processing", "PostProcessing", "Processed"
    )
    assert [h.key for h in receiver.hits] == ["client"]  # several statuses, one GET
    got = await api.get_callback(started.id)
    assert got.status is not None and got.status.id is RequestStatus.PROCESSED
    assert [s.status.id for s in got.statuses if s.status] == [
        RequestStatus.REGISTERED,
        RequestStatus.PRE_PROCESSING,
        RequestStatus.PROCESSING,
        RequestStatus.POST_PROCESSING,
        RequestStatus.PROCESSED,
    ]
    assert got.medical_report is not None and got.medical_report.text
    assert [c.successful for c in got.calls] == [True]


@pytest.mark.parametrize("phone_form", list(PhoneFormField))
async def test_attachment_arrives_byte_identical(
    server: SandboxServer, no_sleep: NoSleep, phone_form: PhoneFormField
) -> None:
    content = bytes(range(256)) * 512 + os.urandom(1000)
    async with make_client(server, no_sleep, phone_form=phone_form) as api:
        started = await api.start_callback(
            101, PHONE, NAME, attachment=Attachment("выписка.jpg", content, "image/jpeg")
        )
    assert server.sandbox.received_attachments[started.id] == ("выписка.jpg", "image/jpeg",
                                                               content)
    assert started.patient_phone == PHONE
    assert [(m.name, m.size) for m in started.attachments] == [("выписка.jpg", len(content))]


async def test_long_report_comes_through_whole(
    api: PartnerApiClient, server: SandboxServer
) -> None:
    started = await api.start_callback(LONG_REPORT_DOCTOR_ID, PHONE, NAME)
    await server.sandbox.set_status(started.id, "Processed")
    got = await api.get_callback(started.id)
    assert got.medical_report is not None and len(got.medical_report.text or "") > 5000


async def test_list_and_iterate_to_the_last_item(
    api: PartnerApiClient, server: SandboxServer
) -> None:
    ids = set(server.sandbox.seed_callbacks(23, seed=2))
    page = await api.list_callbacks(limit=5, offset=20)
    assert (page.count, page.total_count) == (3, 23)

    seen = [c.id async for c in api.iter_callbacks(page_size=5)]
    assert len(seen) == 23 and set(seen) == ids
    assert len(server.sandbox.requests_for("get_all")) == 1 + 5

    processed = [
        c async for c in api.iter_callbacks(statuses=[RequestStatus.PROCESSED], page_size=2)
    ]
    assert processed and all(
        c.status is not None and c.status.id is RequestStatus.PROCESSED for c in processed
    )
    by_status = await api.list_callbacks(order="Status", asc=True, limit=100)
    numbers = [c.status.id.number for c in by_status.items if c.status]
    assert numbers == sorted(numbers)


async def test_get_many_of_500_ids_stays_under_the_url_limit(
    api: PartnerApiClient, server: SandboxServer
) -> None:
    ids = server.sandbox.seed_callbacks(500, seed=3)
    server.sandbox.clear_requests()
    random.Random(4).shuffle(ids)
    found = await api.get_many([*ids, "00000000-0000-0000-0000-000000000000"])
    assert [c.id for c in found] == ids
    requests = server.sandbox.requests_for("get_all")
    assert len(requests) > 10  # really batched
    assert all(r.fault is None for r in server.sandbox.requests)  # no 414
    assert max(len(r.path_qs) for r in requests) <= 2048


async def test_terminate_then_conflict(api: PartnerApiClient) -> None:
    started = await api.start_callback(101, PHONE, NAME)
    assert await api.terminate_callback(started.id) is True
    got = await api.get_callback(started.id)
    assert got.status is not None and got.status.id is RequestStatus.UNSUCCESSFUL
    with pytest.raises(Conflict):
        await api.terminate_callback(started.id)


async def test_doctor_methods(api: PartnerApiClient) -> None:
    doctor = await api.get_doctor(101)
    assert doctor.id == 101 and doctor.full_name
    all_doctors = await api.list_doctors(limit=100)
    assert len(all_doctors) >= 12
    assert [d.last_name for d in await api.list_doctors(last_name="Смирнов")] == ["Смирнов"]
    cardio = await api.list_doctors(specialty_ids=[3])
    assert cardio and all(any(s.id == 3 for s in d.specialties) for d in cardio)
    with pytest.raises(NotFound):
        await api.get_doctor(999)


async def test_doctor_routes_off_is_route_unavailable(no_sleep: NoSleep) -> None:
    async with (
        SandboxServer(SandboxConfig(doctor_routes=False)) as server,
        make_client(server, no_sleep) as api,
    ):
        with pytest.raises(RouteUnavailable):
            await api.get_doctor(101)
        with pytest.raises(RouteUnavailable):
            await api.list_doctors()


# ---------------------------------------------------------------------- error mapping
async def test_every_refusal_maps_to_its_error(
    api: PartnerApiClient, server: SandboxServer
) -> None:
    with pytest.raises(BadArgument) as bad:
        await api.start_callback(101, PHONE, NAME, begin_at=datetime.now(UTC) - timedelta(hours=1))
    assert bad.value.value == "beginAtUtc"
    with pytest.raises(BadArgument):
        await api.start_callback(101, Phone(code="7", number="12"), NAME)
    with pytest.raises(NotFound) as nf:
        await api.start_callback(999, PHONE, NAME)
    assert nf.value.value == "doctor"
    with pytest.raises(Conflict):
        await api.start_callback(DISABLED_DOCTOR_ID, PHONE, NAME)
    with pytest.raises(LimitExceeded):
        await api.start_callback(UNAVAILABLE_DOCTOR_ID, PHONE, NAME)
    with pytest.raises(NotFound):
        await api.get_callback("00000000-0000-0000-0000-000000000000")

    server.sandbox.inject_fault("start", "error", status=402, type="insufficient_funds")
    with pytest.raises(InsufficientFunds):
        await api.start_callback(101, PHONE, NAME)
    server.sandbox.inject_fault("get_all", "error", status=403, type="forbidden")
    with pytest.raises(Forbidden):
        await api.list_callbacks()
    server.sandbox.inject_fault("get_all", "500_html")
    with pytest.raises(ServerError):
        await api.list_callbacks()
    assert server.sandbox.callbacks == {}


async def test_a_wrong_static_token_is_an_auth_error(no_sleep: NoSleep) -> None:
    async with (
        SandboxServer(SandboxConfig(required_token="right")) as server,
        make_client(server, no_sleep, token="wrong") as api,
    ):
        with pytest.raises(AuthError):
            await api.list_callbacks()


# ---------------------------------------------------------------------- retries
async def test_get_retried_after_two_503s_and_after_a_429(
    api: PartnerApiClient, server: SandboxServer, no_sleep: NoSleep
) -> None:
    started = await api.start_callback(101, PHONE, NAME)
    server.sandbox.inject_fault("get", "503", count=2)
    assert (await api.get_callback(started.id)).id == started.id
    assert [r.fault for r in server.sandbox.requests_for("get")] == ["503", "503", None]

    server.sandbox.inject_fault("get_all", "429", retry_after=2)
    await api.list_callbacks()
    assert [r.fault for r in server.sandbox.requests_for("get_all")] == ["429", None]
    assert 2.0 in no_sleep.delays


async def test_503_exhausted_is_api_unavailable(
    api: PartnerApiClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault("get_all", "503", count=50, body="")
    with pytest.raises(ApiUnavailable):
        await api.list_callbacks()
    assert 1 < len(server.sandbox.requests_for("get_all")) < 50


async def test_start_refused_by_503_is_unavailable_and_not_repeated(
    api: PartnerApiClient, server: SandboxServer
) -> None:
    server.sandbox.inject_fault("start", "503")
    with pytest.raises(ApiUnavailable):
        await api.start_callback(101, PHONE, NAME)
    assert len(server.sandbox.requests_for("start")) == 1
    assert server.sandbox.callbacks == {}


@pytest.mark.parametrize("kind", ["timeout", "drop"])
async def test_lost_start_answer_is_outcome_unknown_with_one_request(
    server: SandboxServer, no_sleep: NoSleep, kind: str
) -> None:
    server.sandbox.inject_fault("start", kind)
    async with make_client(server, no_sleep, timeout=httpx.Timeout(0.5)) as api:
        with pytest.raises(OutcomeUnknown):
            await api.start_callback(103, PHONE, NAME)
        assert len(server.sandbox.requests_for("start")) == 1
        # The consultation exists: reconcile finds it newest first.
        page = await api.list_callbacks(limit=5)
        assert page.total_count == 1
        [found] = page.items
        assert found.patient_phone == PHONE
        assert found.doctor is not None and found.doctor.id == 103


# ---------------------------------------------------------------------- tokens
async def test_sms_login_then_single_refresh_for_concurrent_requests(no_sleep: NoSleep) -> None:
    async with (
        SandboxServer(SandboxConfig(required_token="not-this-one")) as server,
        httpx.AsyncClient() as http,
    ):
        await request_validation_code(http, server.url, Phone(code="7", number="9161234567"))
        code = server.sandbox.last_sms_code
        assert code is not None
        pair = await exchange_sms_code(http, f"{server.url}/token", "bot", "+79161234567", code)
        stored: list[TokenPair] = []

        async def keep(new: TokenPair) -> None:
            stored.append(new)

        provider = OAuthTokenProvider(f"{server.url}/token", "bot", pair, http=http,
                                      on_refresh=keep)
        async with PartnerApiClient(
            server.url, provider, retry=RetryPolicy(sleep=no_sleep)
        ) as api:
            started = await api.start_callback(101, PHONE, NAME)
            server.sandbox.expire_token(pair.access_token)
            results = await asyncio.gather(
                api.get_callback(started.id), api.list_callbacks(), api.get_callback(started.id)
            )
        assert results[0].id == started.id
        token_requests = server.sandbox.requests_for("token")
        assert len(token_requests) == 2  # the SMS login, then exactly one refresh
        assert len(stored) == 1 and stored[0].access_token != pair.access_token
        assert server.sandbox.token_valid(stored[0].access_token)
