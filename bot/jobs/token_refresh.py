"""Partner API token renewal through the database-locked path.

Sandbox refresh tokens are single-use, and so may the real ones be: two processes (or two
tasks) that both spend the same refresh token leave one of them with a dead pair. So every
refresh — the scheduled one ahead of expiry and the on-demand one after a 403 — goes
through ``TokenRefresher``: lock the token row, and if the row already holds a newer pair
than the one the caller saw, use it; otherwise call the token endpoint and store the new
pair in the same transaction, before the lock is released.

On SQLite the lock is the database write lock: other writers wait (busy_timeout) while the
token endpoint answers, so the exchange gets a bound well under that timeout.

A refusal by the token endpoint (or no refresh token at all) is a failure for good: the
admins are alerted through the outbox, once per incident (keyed by a hash of the refresh
token that failed, so a new pair from ``partner-login`` that fails again is a new
incident). A token endpoint that is down is transient: the next run tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.auth import OAuthTokenProvider, TokenPair, TokenProvider, exchange_refresh_token
from api_client.errors import ApiUnavailable, AuthError
from api_client.logsafe import describe
from bot.i18n import I18n
from bot.services.alerts import AlertKind, alert_admins, incident_token
from bot.settings import Settings
from bot.shutdown import raise_if_stopping
from storage.models import PartnerToken
from storage.repositories import TokenRepository

log = logging.getLogger(__name__)

JOB_ID = "token_refresh"
# Well under the SQLite busy timeout (15 s) the other writers wait for while we hold it.
EXCHANGE_TIMEOUT = 10.0
# The access token lives about two weeks: renewing two days ahead leaves many retries.
DEFAULT_MARGIN = timedelta(days=2)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _pair(row: PartnerToken) -> TokenPair:
    return TokenPair(row.access_token, row.refresh_token, row.expires_at)


@dataclass
class TokenRefresher:
    """The DB-locked refresh; also the ``refresher`` of ``OAuthTokenProvider``."""

    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    settings: Settings
    i18n: I18n
    outbox_wake: Callable[[], None] = lambda: None
    now: Callable[[], datetime] = _utcnow
    exchange_timeout: float = EXCHANGE_TIMEOUT

    @property
    def token_url(self) -> str:
        return self.settings.tmapi_auth_url

    async def __call__(self, stale: TokenPair) -> TokenPair:
        """The provider's hook: ``stale`` was refused (or is about to expire)."""
        pair = await self.refresh(stale)
        assert pair is not None
        return pair

    async def refresh(
        self, stale: TokenPair | None, *, due_within: timedelta | None = None
    ) -> TokenPair | None:
        """A pair newer than ``stale``: another worker's, or a fresh one from the endpoint.

        ``stale`` None (the scheduled job): renew the stored pair only if it expires within
        ``due_within`` (or its expiry is unknown); None when it is not due.
        """
        failed: TokenPair | None = None
        error: AuthError | None = None
        async with self.session_factory() as session:
            repo = TokenRepository(session)
            row = await repo.lock_for_refresh()
            if row is None and stale is not None:
                # The pair came from the environment: store it first so there is a row to lock.
                await repo.store_if_absent(stale, now=self.now())
                row = await repo.lock_for_refresh()
            if row is None:
                return None  # nothing stored and nothing given: partner-login first
            if stale is not None and row.access_token != stale.access_token:
                await session.commit()
                log.info("partner_token_taken_from_db expires_at=%s", row.expires_at)
                return _pair(row)
            not_due = (
                stale is None
                and due_within is not None
                and row.expires_at is not None
                and row.expires_at - due_within > self.now()
            )
            if not_due:
                await session.commit()
                return None
            try:
                new = await self._exchange(row)
            except AuthError as exc:
                failed, error = _pair(row), exc  # a plain copy: the rollback expires `row`
                await session.rollback()
            else:
                await repo.save(new, now=self.now())
                await session.commit()
                log.info("partner_token_refreshed expires_at=%s", new.expires_at)
                return new
        assert failed is not None and error is not None
        await self._alert(failed, error)
        raise error

    async def _exchange(self, row: PartnerToken) -> TokenPair:
        if not row.refresh_token:
            raise AuthError(403, "oauth", None, "no refresh token is stored")
        if not self.token_url:
            raise AuthError(403, "oauth", None, "TMAPI_AUTH_URL is not set")
        try:
            new = await asyncio.wait_for(
                exchange_refresh_token(
                    self.http, self.token_url, self.settings.tmapi_client_id, row.refresh_token
                ),
                self.exchange_timeout,
            )
        except TimeoutError as exc:
            raise ApiUnavailable("token endpoint: timeout") from exc
        if new.refresh_token is None:
            # Endpoints that do not rotate refresh tokens omit it: keep the old one.
            new = TokenPair(new.access_token, row.refresh_token, new.expires_at)
        return new

    async def _alert(self, row: TokenPair, error: AuthError) -> None:
        incident = incident_token(row.refresh_token or row.access_token)
        reason = error.value or error.description or "refused"
        try:
            async with self.session_factory() as session:
                queued = await alert_admins(
                    session,
                    self.settings,
                    AlertKind.REFRESH_FAILED,
                    incident,
                    {"reason": reason, "expires": row.expires_at},
                    i18n=self.i18n,
                    now=self.now(),
                )
                await session.commit()
        except Exception as exc:
            log.error("partner_token_alert_failed error=%s", describe(exc))
            return
        log.error("partner_token_refresh_failed incident=%s alerted=%d", incident, queued)
        if queued:
            self.outbox_wake()


@dataclass
class TokenRefreshJob:
    """Renews the stored pair ``margin`` ahead of its expiry.

    With the running bot's ``OAuthTokenProvider`` (whose refresher is the same
    ``TokenRefresher``) the renewal goes through the provider, so its in-memory pair
    follows and an on-demand refresh in flight is shared rather than repeated.
    """

    refresher: TokenRefresher
    # The bot's provider; only an OAuthTokenProvider is renewed through (see ``_run``).
    provider: TokenProvider | None = None
    margin: timedelta = DEFAULT_MARGIN
    last_result: str = field(default="not run")

    async def run(self) -> str:
        try:
            self.last_result = await self._run()
        except AuthError:
            self.last_result = "failed"  # alerted by the refresher
        except ApiUnavailable as exc:
            log.warning("partner_token_refresh_unavailable error=%s", exc)
            self.last_result = "unavailable"
        except Exception as exc:
            raise_if_stopping(log, "partner_token_refresh_cancelled", exc)
            log.error("partner_token_refresh_crashed error=%s", describe(exc))
            self.last_result = "crashed"
        return self.last_result

    async def _run(self) -> str:
        async with self.refresher.session_factory() as session:
            row = await TokenRepository(session).get()
        if row is None:
            return "nothing stored"
        now = self.refresher.now()
        if row.expires_at is not None and row.expires_at - self.margin > now:
            return "fresh"
        if isinstance(self.provider, OAuthTokenProvider):
            current = self.provider.pair
            await self.provider.refresh(current.access_token)
            return "refreshed" if self.provider.pair != current else "unchanged"
        pair = await self.refresher.refresh(None, due_within=self.margin)
        return "refreshed" if pair is not None else "fresh"
