"""A malformed partner answer never puts patient data into the logs.

The client turns an answer it cannot read into ``ServerError`` raised *from* pydantic's
``ValidationError``, whose text quotes the input (``input_value={'patientName': …}``);
``log.exception`` used to print that chain. Every site that logs an exception it caught is
fed that very exception (from a real parse of a malformed answer) and the captured log —
tracebacks included — is scanned for the name and the phone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from sqlalchemy import update

from api_client import PartnerApiClient, StaticTokenProvider
from api_client.auth import OAuthTokenProvider, TokenPair
from api_client.errors import PartnerApiError
from api_client.sandbox.life import SandboxLife
from bot.i18n import I18n
from bot.jobs.reminders import ReminderJob
from bot.jobs.retention import RetentionJob
from bot.jobs.token_refresh import TokenRefreshJob
from bot.notifications.receiver import HookReceiver
from bot.notifications.reconcile import Reconciler
from storage.models import Consultation
from tests.notifications.harness import PATIENT, PHONE, Harness

NATIONAL = PHONE[2:]
# A field of the wrong type (doctorId), and the name and phone beside it in the answer.
MALFORMED: dict[str, Any] = {
    "id": "3f0e5b1c-0000-4000-8000-000000000001",
    "doctorId": f"{PATIENT} {PHONE}",
    "patientName": PATIENT,
    "patientPhone": {"code": "7", "number": NATIONAL},
    "statuses": "not a list",
}


@pytest.fixture
async def broken_api() -> AsyncIterator[PartnerApiClient]:
    """The partner API answering every request with the malformed payload (200)."""

    def answer(request: httpx.Request) -> httpx.Response:
        # get-all: the page itself unreadable (a list's place holds one object), since
        # unreadable entries of a readable page are only dropped.
        # (pydantic shortens a long input_value in the middle: keep the object short).
        page = {"items": {"patientName": PATIENT, "patientPhone": PHONE}}
        body = page if "get-all" in request.url.path else MALFORMED
        return httpx.Response(200, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with PartnerApiClient(
        "https://partner.example.test", StaticTokenProvider("t"), http=http
    ) as api:
        yield api
    await http.aclose()


@pytest.fixture
async def malformed(broken_api: PartnerApiClient) -> PartnerApiError:
    """The exception the client raises for that answer (the chain quotes the patient)."""
    with pytest.raises(PartnerApiError) as caught:
        await broken_api.get_many(["3f0e5b1c-0000-4000-8000-000000000001"])
    chain = f"{caught.value} {caught.value.__cause__}"
    assert PATIENT in chain or NATIONAL in chain  # else this test would prove nothing
    return caught.value


def _clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "the site logged nothing"
    text = caplog.text
    assert PATIENT not in text and NATIONAL not in text, text


async def test_status_worker(
    harness: Harness, broken_api: PartnerApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    local_id, _ = await harness.start()
    async with harness.session_factory() as session:
        await session.execute(
            update(Consultation).where(Consultation.id == local_id).values(needs_refresh=True)
        )
        await session.commit()
    worker = harness.new_worker()
    worker.api = broken_api  # the partner's answer to the worker's look is malformed
    with caplog.at_level(logging.DEBUG), pytest.raises(PartnerApiError):
        await worker.run_once()
    _clean(caplog)


async def test_reconcile(
    harness: Harness,
    broken_api: PartnerApiClient,
    malformed: PartnerApiError,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    await harness.start()
    reconciler = Reconciler(
        session_factory=harness.session_factory, api=broken_api, processor=harness.processor()
    )
    with caplog.at_level(logging.DEBUG):
        await reconciler.run()  # the batch's answer is malformed
    _clean(caplog)
    caplog.clear()

    async def fail(*_: Any) -> None:
        raise malformed

    monkeypatch.setattr(reconciler, "_refresh_open", fail)
    with caplog.at_level(logging.DEBUG):
        await reconciler.run()  # anything unforeseen: the pass's own catch-all
    _clean(caplog)


async def test_hook_receiver(
    harness: Harness, malformed: PartnerApiError, caplog: pytest.LogCaptureFixture
) -> None:
    async def mark(_: str) -> int | None:
        raise malformed

    receiver = HookReceiver(mark, lambda: None)
    app = aiohttp.web.Application()
    receiver.setup(app)
    runner = aiohttp.web.AppRunner(app, access_log=None)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.DEBUG):
            async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{port}/hooks/callback/{'a' * 43}"
            ) as response:
                assert response.status in (404, 503)
    finally:
        await runner.cleanup()
    _clean(caplog)


@pytest.mark.parametrize("job_kind", ["reminders", "retention", "token_refresh"])
async def test_scheduled_jobs(
    job_kind: str,
    harness: Harness,
    i18n: I18n,
    malformed: PartnerApiError,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fail(*_: Any, **__: Any) -> Any:
        raise malformed

    job: Any
    if job_kind == "reminders":
        from datetime import timedelta

        job = ReminderJob(harness.session_factory, i18n, timedelta(minutes=15), "UTC", ())
        monkeypatch.setattr(job, "_run", fail)
    elif job_kind == "retention":
        from datetime import timedelta

        job = RetentionJob(harness.session_factory, timedelta(days=30))
        monkeypatch.setattr(job, "purge", fail)
    else:
        job = TokenRefreshJob(refresher=None)  # type: ignore[arg-type]
        monkeypatch.setattr(job, "_run", fail)
    with caplog.at_level(logging.DEBUG):
        await job.run()
    _clean(caplog)


async def test_token_store_failure(
    malformed: PartnerApiError, caplog: pytest.LogCaptureFixture
) -> None:
    async def store(_: TokenPair) -> None:
        raise malformed

    async def refresher(old: TokenPair) -> TokenPair:
        return TokenPair("new-access", "new-refresh", None)

    async with httpx.AsyncClient() as http:
        provider = OAuthTokenProvider(
            "https://auth.example.test", "client", TokenPair("old", "r", None),
            http=http, on_refresh=store, refresher=refresher,
        )
        with caplog.at_level(logging.DEBUG):
            assert await provider.refresh("old") == "new-access"
    _clean(caplog)


async def test_sandbox_life(malformed: PartnerApiError, caplog: pytest.LogCaptureFixture) -> None:
    async def die() -> None:
        raise malformed

    task = asyncio.ensure_future(die())
    await asyncio.gather(task, return_exceptions=True)
    life = SandboxLife.__new__(SandboxLife)
    life._life = {}
    with caplog.at_level(logging.DEBUG):
        life._life_done("cb", task)
    _clean(caplog)


async def test_token_alert_failure(
    malformed: PartnerApiError, caplog: pytest.LogCaptureFixture
) -> None:
    from api_client.errors import AuthError
    from bot.jobs.token_refresh import TokenRefresher

    def no_database() -> Any:
        raise malformed

    refresher = TokenRefresher.__new__(TokenRefresher)
    refresher.session_factory = no_database  # type: ignore[assignment]
    with caplog.at_level(logging.DEBUG):
        await refresher._alert(
            TokenPair("a", "r", None), AuthError(403, "oauth", None, "refused")
        )
    _clean(caplog)
