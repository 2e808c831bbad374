"""The partner API side of the start-up: the embedded sandbox and the API client.

``start_sandbox``: with no TMAPI_BASE_URL the bot runs its own sandbox of the partner API and
talks to it over HTTP like to the real one. ``start_partner_api``: the token pair (the one
stored by ``partner-login`` wins over the environment) and the one ``PartnerApiClient``.
Both are steps of ``run_bot`` (bot/app/runtime.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx

from api_client import (
    OAuthTokenProvider,
    StaticTokenProvider,
    TokenPair,
    TokenProvider,
)
from api_client.client import PartnerApiClient, PhoneFormField
from bot.http_server import HealthState
from bot.jobs.token_refresh import TokenRefresher
from bot.settings import ConfigError, Settings
from storage.repositories.tokens import TokenRepository

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 15.0  # seconds: the client the token endpoint and its refresher use


async def start_sandbox(rt: Runtime) -> None:
    """The health state (it says whether this is the sandbox), and the sandbox if so."""
    rt.health = HealthState(is_sandbox=rt.settings.is_sandbox)
    if not rt.settings.is_sandbox:
        rt.api_base_url = rt.settings.tmapi_base_url
        return
    # Imported here: only sandbox mode needs the emulator's server.
    from api_client.sandbox import SandboxConfig, SandboxServer

    pace = rt.settings.sandbox_pace_seconds or None
    rt.sandbox = await rt.stack.enter_async_context(SandboxServer(SandboxConfig(pace=pace)))
    rt.api_base_url = rt.sandbox.url
    log.info("sandbox_started url=%s pace=%s", rt.sandbox.url, pace)


def initial_pair(settings: Settings, stored: TokenPair | None) -> TokenPair | None:
    """The stored pair wins: it is the newest refresh; else TMAPI_ACCESS/REFRESH_TOKEN."""
    if stored is not None:
        return stored
    if settings.tmapi_access_token is None:
        return None
    refresh = settings.tmapi_refresh_token
    return TokenPair(
        settings.tmapi_access_token.get_secret_value(),
        refresh.get_secret_value() if refresh else None,
    )


async def start_partner_api(rt: Runtime) -> None:
    settings = rt.settings
    session_factory = rt.require("session_factory")
    rt.http = await rt.stack.enter_async_context(httpx.AsyncClient(timeout=HTTP_TIMEOUT))
    async with session_factory() as session:
        row = await TokenRepository(session).get()
    stored = TokenPair(row.access_token, row.refresh_token, row.expires_at) if row else None
    pair = initial_pair(settings, stored)
    provider: TokenProvider
    if pair is None:
        if not settings.is_sandbox:
            raise ConfigError(
                "TMAPI_ACCESS_TOKEN is not set and no token pair is stored: "
                "run `python -m bot partner-login` or set TMAPI_ACCESS_TOKEN"
            )
        provider = StaticTokenProvider("sandbox")
    elif pair.refresh_token and settings.tmapi_auth_url:

        async def store(new_pair: TokenPair) -> None:
            async with session_factory() as session:
                await TokenRepository(session).save(new_pair)
                await session.commit()

        # Every refresh (on a 403 or the scheduled one) locks the stored row (issue 8).
        rt.token_refresher = TokenRefresher(session_factory, rt.http, settings, rt.i18n)
        rt.token_provider = OAuthTokenProvider(
            settings.tmapi_auth_url, settings.tmapi_client_id, pair, http=rt.http,
            on_refresh=store, refresher=rt.token_refresher,
        )
        provider = rt.token_provider
    else:
        provider = StaticTokenProvider(pair.access_token)
    rt.api = await rt.stack.enter_async_context(
        PartnerApiClient(
            rt.api_base_url,
            provider,
            # One client for the API and its token endpoint: one TLS context (certificates
            # loaded once) and one pool; the API client sets its own timeouts per request.
            http=rt.http,
            max_url_length=settings.max_url_length,
            phone_form=PhoneFormField(settings.tmapi_phone_form),
            on_request=rt.metrics.partner_request,  # api_client knows no Prometheus
        )
    )
