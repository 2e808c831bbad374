"""Token refresh through the locked row: a refresh token is spent once, however many
workers refresh at the same moment; a failure for good alerts the admins once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.auth import (
    OAuthTokenProvider,
    TokenPair,
    exchange_sms_code,
    request_validation_code,
)
from api_client.errors import AuthError
from api_client.models import Phone
from api_client.sandbox import SandboxConfig, SandboxServer
from bot.i18n import I18n
from bot.jobs.token_refresh import TokenRefresher, TokenRefreshJob
from bot.settings import Settings
from storage.db import create_engine, create_session_factory
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories import TokenRepository, UserRepository
from tests.ops.conftest import ADMIN_ID, MakeSettings

Factory = async_sessionmaker[AsyncSession]
STORED_ADMIN = 5


@pytest.fixture
async def strict_sandbox() -> AsyncIterator[SandboxServer]:
    # Strict: only issued tokens pass, and unknown refresh tokens are refused.
    async with SandboxServer(SandboxConfig(pace=None, required_token="static")) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def settings(make_settings: MakeSettings, strict_sandbox: SandboxServer) -> Settings:
    return make_settings(
        tmapi_base_url=strict_sandbox.url,
        tmapi_auth_url=strict_sandbox.url + "/token",
        tmapi_client_id="bot",
    )


async def _login(http: httpx.AsyncClient, sandbox: SandboxServer) -> TokenPair:
    await request_validation_code(http, sandbox.url, Phone.from_e164("+79099708593"))
    code = sandbox.sandbox.last_sms_code
    assert code is not None
    return await exchange_sms_code(http, sandbox.url + "/token", "bot", "+79099708593", code)


async def _store(session_factory: Factory, pair: TokenPair) -> None:
    async with session_factory() as session:
        await TokenRepository(session).save(pair)
        await session.commit()


def _token_requests(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.sandbox.requests if r[0] == "token")


async def _alerts(session_factory: Factory) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like("alert:%"))
            )
        )


async def test_concurrent_refreshes_spend_the_refresh_token_once(
    db_url: str,
    session_factory: Factory,
    settings: Settings,
    strict_sandbox: SandboxServer,
    http: httpx.AsyncClient,
    i18n: I18n,
) -> None:
    pair = await _login(http, strict_sandbox)
    await _store(session_factory, pair)
    before = _token_requests(strict_sandbox)

    # Two "replicas": separate engines on one database, each with its own provider.
    engines = [create_engine(db_url) for _ in range(2)]
    try:
        providers = [
            OAuthTokenProvider(
                settings.tmapi_auth_url, "bot", pair, http=http,
                refresher=TokenRefresher(create_session_factory(e), http, settings, i18n),
            )
            for e in engines
        ]
        # Each replica also refreshes twice at once (single-flight inside the provider).
        results = await asyncio.gather(
            *(p.refresh(pair.access_token) for p in providers for _ in range(2))
        )
    finally:
        for e in engines:
            await e.dispose()

    assert _token_requests(strict_sandbox) - before == 1
    assert len(set(results)) == 1 and results[0] != pair.access_token
    assert strict_sandbox.sandbox.token_valid(results[0])
    async with session_factory() as session:
        row = await TokenRepository(session).get()
        assert row is not None and row.access_token == results[0]
        assert row.refresh_token != pair.refresh_token
    assert await _alerts(session_factory) == []


async def test_job_renews_ahead_of_expiry_only(
    session_factory: Factory,
    settings: Settings,
    strict_sandbox: SandboxServer,
    http: httpx.AsyncClient,
    i18n: I18n,
) -> None:
    pair = await _login(http, strict_sandbox)
    now = datetime.now(UTC)
    refresher = TokenRefresher(session_factory, http, settings, i18n, now=lambda: now)
    job = TokenRefreshJob(refresher, margin=timedelta(days=2))

    await _store(session_factory, TokenPair(pair.access_token, pair.refresh_token,
                                            now + timedelta(days=5)))
    before = _token_requests(strict_sandbox)
    assert await job.run() == "fresh"
    assert _token_requests(strict_sandbox) == before

    await _store(session_factory, TokenPair(pair.access_token, pair.refresh_token,
                                            now + timedelta(days=1)))
    provider = OAuthTokenProvider(
        settings.tmapi_auth_url, "bot", pair, http=http, refresher=refresher
    )
    job.provider = provider  # the running bot's provider follows the renewal
    assert await job.run() == "refreshed"
    assert _token_requests(strict_sandbox) == before + 1
    async with session_factory() as session:
        row = await TokenRepository(session).get()
    assert row is not None and row.access_token == provider.pair.access_token
    assert row.expires_at is not None and row.expires_at > now + timedelta(days=10)


async def test_permanent_failure_alerts_admins_once_per_incident(
    session_factory: Factory,
    settings: Settings,
    strict_sandbox: SandboxServer,
    http: httpx.AsyncClient,
    i18n: I18n,
) -> None:
    # A second admin listed in ADMIN_IDS (only those get alerts), known to speak English.
    settings = settings.model_copy(update={"admin_ids": frozenset({ADMIN_ID, STORED_ADMIN})})
    async with session_factory() as session:
        await UserRepository(session).upsert(STORED_ADMIN, Role.ADMIN)
        await UserRepository(session).set_language(STORED_ADMIN, "en")
        await session.commit()
    expires = datetime.now(UTC) + timedelta(hours=3)
    await _store(session_factory, TokenPair("dead-access", "dead-refresh", expires))
    refresher = TokenRefresher(session_factory, http, settings, i18n)
    job = TokenRefreshJob(refresher)

    for _ in range(3):  # the next ticks, and a restart with a new job, fail the same way
        assert await job.run() == "failed"
    assert await TokenRefreshJob(TokenRefresher(session_factory, http, settings, i18n)).run() == (
        "failed"
    )
    with pytest.raises(AuthError):
        await refresher(TokenPair("dead-access", "dead-refresh", expires))

    alerts = await _alerts(session_factory)
    assert sorted(a.chat_id for a in alerts) == [ADMIN_ID, STORED_ADMIN]
    by_chat = {a.chat_id: a.text or "" for a in alerts}
    assert "partner-login" in by_chat[ADMIN_ID] and "токен" in by_chat[ADMIN_ID]
    assert "could not be renewed" in by_chat[STORED_ADMIN]
    assert "dead-refresh" not in "".join(by_chat.values())
    # The stored pair is left as it was (nothing half-saved).
    async with session_factory() as session:
        row = await TokenRepository(session).get()
        assert row is not None and row.refresh_token == "dead-refresh"

    # A new pair (another partner-login) that fails too is a new incident.
    await _store(session_factory, TokenPair("dead-access-2", "dead-refresh-2", expires))
    assert await job.run() == "failed"
    assert len(await _alerts(session_factory)) == 4


async def test_transient_failure_does_not_alert(
    session_factory: Factory,
    settings: Settings,
    strict_sandbox: SandboxServer,
    http: httpx.AsyncClient,
    i18n: I18n,
) -> None:
    pair = await _login(http, strict_sandbox)
    await _store(session_factory, TokenPair(pair.access_token, pair.refresh_token,
                                            datetime.now(UTC) + timedelta(hours=1)))
    strict_sandbox.sandbox.inject_fault("token", "503")
    job = TokenRefreshJob(TokenRefresher(session_factory, http, settings, i18n))
    assert await job.run() == "unavailable"
    assert await _alerts(session_factory) == []
    # The refresh token was not spent: the next tick succeeds with it.
    assert await job.run() == "refreshed"


async def test_pair_from_environment_is_stored_before_refresh(
    session_factory: Factory,
    settings: Settings,
    strict_sandbox: SandboxServer,
    http: httpx.AsyncClient,
    i18n: I18n,
    tmp_path: Path,
) -> None:
    pair = await _login(http, strict_sandbox)  # as if put into TMAPI_*_TOKEN
    refresher = TokenRefresher(session_factory, http, settings, i18n)
    new = await refresher(pair)
    assert new.access_token != pair.access_token
    async with session_factory() as session:
        row = await TokenRepository(session).get()
    assert row is not None and row.access_token == new.access_token
