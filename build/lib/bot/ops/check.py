"""``python -m bot check``: what works, for an operator's first day.

One line per check, ``✓`` or ``✗`` with a plain reason; exit 1 if an essential check failed.
Checks: the database, the partner token, the partner API (auth and a ``get-all`` with
limit 1), the doctor routes (optional: without them the wizard asks for a doctor id), and
the public URL (``GET PUBLIC_URL/health``). When nothing answers there because the bot is
not running, a temporary listener is opened on HTTP_HOST:HTTP_PORT and the URL is tried
again, so the route from PUBLIC_URL to this machine's port is tested either way.

In sandbox mode (TMAPI_BASE_URL empty) the partner checks run against a sandbox started for
the occasion. A token refused with 403 is refreshed through the same locked path as the
bot's (and the new pair stored), so ``check`` never spends a refresh token behind its back;
on a database without the schema yet (the bot has never started) there is nowhere to store a
renewed pair, so no renewal is tried at all. A database error on the way is a ✗ line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.auth import OAuthTokenProvider, StaticTokenProvider, TokenPair, TokenProvider
from api_client.client import PartnerApiClient, PhoneFormField
from api_client.errors import ApiUnavailable, AuthError, PartnerApiError, RouteUnavailable
from api_client.retry import RetryPolicy
from bot.i18n import I18n
from bot.jobs.token_refresh import TokenRefresher
from bot.ops import FAIL, OK
from bot.rendering.partner_errors import partner_error_text
from bot.settings import Settings
from storage.db import create_engine, create_session_factory
from storage.repositories import TokenRepository

Say = Callable[[str], None]
HTTP_TIMEOUT = 10.0


@dataclass
class Report:
    say: Say
    failed_essential: list[str] = field(default_factory=list)

    def ok(self, name: str, detail: str) -> None:
        self.say(f"{OK} {name}: {detail}")

    def fail(self, name: str, reason: str, *, essential: bool = True) -> None:
        suffix = "" if essential else " (not essential)"
        self.say(f"{FAIL} {name}: {reason}{suffix}")
        if essential:
            self.failed_essential.append(name)

    def info(self, line: str) -> None:
        self.say(f"  {line}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ApiUnavailable):
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPError):
            return _reason(cause)
        return f"unavailable: {exc}"
    if isinstance(exc, PartnerApiError):
        detail = partner_error_text(I18n().translator("en"), exc)
        status = getattr(exc, "status", None)
        return f"{detail} (HTTP {status})" if status else detail
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"[:200]


async def run_check(
    settings: Settings, *, say: Say = print, http: httpx.AsyncClient | None = None
) -> int:
    report = Report(say)
    async with AsyncExitStack() as stack:
        if http is None:
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=HTTP_TIMEOUT))
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        session_factory = create_session_factory(engine)

        has_schema, stored = await _check_database(settings, session_factory, report)
        base_url, provider = await _token_provider(
            settings, session_factory if has_schema else None, http, stored, report, stack
        )
        if provider is not None:
            api = await stack.enter_async_context(
                PartnerApiClient(
                    base_url,
                    provider,
                    http=http,
                    max_url_length=settings.max_url_length,
                    phone_form=PhoneFormField(settings.tmapi_phone_form),
                    # An operator waits for the answer: one retry, not the bot's patience.
                    retry=RetryPolicy(max_attempts=2, total_timeout=HTTP_TIMEOUT),
                )
            )
            if await _check_partner(api, report):
                await _check_doctors(api, report)
        await _check_public_url(settings, http, report)
    if report.failed_essential:
        say(f"{FAIL} not ready: {', '.join(report.failed_essential)}")
        return 1
    say(f"{OK} ready")
    return 0


async def _check_database(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], report: Report
) -> tuple[bool, TokenPair | None]:
    """Whether the schema is there, and the stored token pair if there is one."""
    try:
        async with session_factory() as session:
            await session.execute(text("SELECT 1"))
            try:
                revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
            except SQLAlchemyError:
                await session.rollback()
                report.ok("database", "reachable, empty (migrations run at the bot's start)")
                return False, None
            row = await TokenRepository(session).get()
    except (SQLAlchemyError, OSError) as exc:
        report.fail("database", f"cannot open {settings.database_url.split('://')[0]}: "
                    f"{type(exc).__name__}")
        return False, None
    report.ok("database", f"reachable, schema revision {revision}")
    if row is None:
        return True, None
    return True, TokenPair(row.access_token, row.refresh_token, row.expires_at)


async def _token_provider(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession] | None,
    http: httpx.AsyncClient,
    stored: TokenPair | None,
    report: Report,
    stack: AsyncExitStack,
) -> tuple[str, TokenProvider | None]:
    if settings.is_sandbox:
        from api_client.sandbox import SandboxConfig, SandboxServer

        sandbox = await stack.enter_async_context(SandboxServer(SandboxConfig(pace=None)))
        report.ok("partner API", "sandbox mode (TMAPI_BASE_URL is empty): no real calls; "
                  "checking a temporary sandbox")
        return sandbox.url, StaticTokenProvider("sandbox")
    pair = stored
    source = "database (from partner-login or a refresh)"
    if pair is None and settings.tmapi_access_token is not None:
        refresh = settings.tmapi_refresh_token
        pair = TokenPair(
            settings.tmapi_access_token.get_secret_value(),
            refresh.get_secret_value() if refresh else None,
        )
        source = "environment (TMAPI_ACCESS_TOKEN)"
    if pair is None:
        report.fail("partner token", "none stored and TMAPI_ACCESS_TOKEN is not set; "
                    "run `python -m bot partner-login`")
        return settings.tmapi_base_url, None
    expiry = (
        f", expires {pair.expires_at:%Y-%m-%d %H:%M} UTC" if pair.expires_at else ""
    )
    report.ok("partner token", f"from the {source}{expiry}")
    provider: TokenProvider
    if session_factory is None:
        # No partner_tokens table to lock or store into: a renewal here would spend the
        # refresh token and lose the new pair. The bot's first start creates the schema.
        report.info("token renewal not tried: the database has no schema yet")
        provider = StaticTokenProvider(pair.access_token)
    elif pair.refresh_token and settings.tmapi_auth_url:
        refresher = TokenRefresher(session_factory, http, settings, I18n())
        provider = OAuthTokenProvider(
            settings.tmapi_auth_url, settings.tmapi_client_id, pair, http=http,
            refresher=refresher,
        )
        report.ok("token renewal", f"refresh token and TMAPI_AUTH_URL ({settings.tmapi_auth_url})")
    else:
        missing = "no refresh token" if not pair.refresh_token else "TMAPI_AUTH_URL is not set"
        report.fail("token renewal", f"{missing}: the token cannot be renewed and "
                    "the bot stops working when it expires", essential=False)
        provider = StaticTokenProvider(pair.access_token)
    return settings.tmapi_base_url, provider


async def _check_partner(api: PartnerApiClient, report: Report) -> bool:
    try:
        page = await api.list_callbacks(limit=1)
    except AuthError as exc:
        report.fail("partner API auth", f"the token was refused: {_reason(exc)}; "
                    "run `python -m bot partner-login`")
        return False
    except (PartnerApiError, httpx.HTTPError) as exc:
        report.fail("partner API get-all", f"{api.base_url}: {_reason(exc)}")
        return False
    except SQLAlchemyError as exc:  # the locked renewal reads and stores the pair
        report.fail("partner API auth", f"the token renewal hit a database error: "
                    f"{type(exc).__name__}")
        return False
    report.ok("partner API auth", "token accepted")
    report.ok("partner API get-all", f"answered ({page.total_count} consultation(s) in all)")
    return True


async def _check_doctors(api: PartnerApiClient, report: Report) -> None:
    try:
        doctors = await api.list_doctors(limit=1)
        if doctors and doctors[0].id is not None:
            await api.get_doctor(doctors[0].id)
    except RouteUnavailable:
        report.fail("doctor routes", "not offered by this deployment; the wizard will ask for "
                    "a doctor id and the directory is kept by hand (admin commands)",
                    essential=False)
        return
    except (PartnerApiError, httpx.HTTPError) as exc:
        report.fail("doctor routes", _reason(exc), essential=False)
        return
    report.ok("doctor routes", "get-all and get answered" if doctors else
              "get-all answered, but the account has no doctors")


async def _check_public_url(settings: Settings, http: httpx.AsyncClient, report: Report) -> None:
    url = f"{settings.public_url}/health"
    try:
        response = await http.get(url)
    except httpx.HTTPError as exc:
        first = _reason(exc)
    else:
        body = _json(response)
        if body is not None and "status" in body and "check" not in body:
            report.ok("public URL", f"{url} answered {response.status_code} from the running "
                      f"bot (status {body.get('status')})")
            return
        # A proxy's 502 while the bot is down, or some other server.
        first = f"answered {response.status_code}, not the bot's health"
    # The bot may simply not be running: listen on its port and try again.
    nonce = secrets.token_hex(8)
    try:
        async with _TemporaryListener(settings.http_host, settings.http_port, nonce):
            try:
                response = await http.get(url)
            except httpx.HTTPError as exc:
                report.fail("public URL", f"{url}: {_reason(exc)}; partner notifications "
                            "could not arrive (check PUBLIC_URL, DNS, the proxy, the firewall)")
                return
    except OSError:
        report.fail("public URL", f"{url}: {first}; and HTTP_PORT {settings.http_port} is "
                    "taken by something else")
        return
    body = _json(response)
    if body is not None and body.get("check") == nonce:
        report.ok("public URL", f"{url} reaches HTTP_PORT {settings.http_port} on this machine "
                  "(the bot is not running now)")
    else:
        report.fail("public URL", f"{url} answered {response.status_code}, but not from this "
                    f"machine's HTTP_PORT {settings.http_port} (a proxy pointing elsewhere?)")


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class _TemporaryListener:
    def __init__(self, host: str, port: int, nonce: str) -> None:
        self.host, self.port, self.nonce = host, port, nonce
        self.runner: web.AppRunner | None = None

    async def __aenter__(self) -> _TemporaryListener:
        async def health(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok", "check": self.nonce})

        app = web.Application()
        app.router.add_get("/health", health)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, self.host, self.port).start()
        except OSError:
            await self.runner.cleanup()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def main(settings: Settings, args: argparse.Namespace) -> int:
    # The lines below are the report; the clients' own log lines would only clutter it.
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(run_check(settings, say=lambda line: print(line, flush=True)))
