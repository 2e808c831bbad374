"""Partner API tokens: providers for the client, and the token-endpoint exchanges.

The access token lives about two weeks; the service answers 403 with type ``oauth`` once
it has expired. ``PartnerApiClient`` then calls ``provider.refresh(stale_token)`` and
repeats the request once. Refreshes are single-flight: however many requests fail at
the same moment, one exchange runs and all of them wait for its result; a caller whose
stale token has already been replaced gets the current one without a new exchange.

No function here logs a token, a refresh token, a phone or an SMS code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import httpx

from api_client.errors import (
    ApiUnavailable,
    AuthError,
    PartnerApiError,
    error_from_response,
    parse_error_body,
)
from api_client.logsafe import describe
from api_client.models import Phone

logger = logging.getLogger(__name__)

__all__ = [
    "OAuthTokenProvider",
    "Refresher",
    "StaticTokenProvider",
    "TokenPair",
    "TokenProvider",
    "exchange_refresh_token",
    "exchange_sms_code",
    "request_validation_code",
]


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None  # aware UTC; None when the endpoint did not say

    def __repr__(self) -> str:  # tokens never end up in logs or tracebacks
        return f"TokenPair(access_token='…', refresh_token='…', expires_at={self.expires_at!r})"

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at - margin <= now

    @classmethod
    def from_token_response(cls, data: Any, now: datetime | None = None) -> TokenPair:
        """``{access_token, token_type, expires_in, refresh_token}`` → TokenPair."""
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise AuthError(200, "oauth", None, "token endpoint answered without a token")
        now = now or datetime.now(UTC)
        expires_at: datetime | None = None
        expires_in = data.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            expires_at = now + timedelta(seconds=float(expires_in))
        refresh = data.get("refresh_token")
        return cls(
            access_token=data["access_token"],
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=expires_at,
        )


@runtime_checkable
class TokenProvider(Protocol):
    async def get_token(self) -> str:
        """The access token to send now."""
        ...

    async def refresh(self, stale: str) -> str:
        """A token to replace ``stale``, which the service refused.

        Single-flight; if ``stale`` is no longer the current token, return the current one.
        Raises ``AuthError`` when no new token can be had.
        """
        ...


class StaticTokenProvider:
    """A fixed token (sandbox, tests). It cannot be refreshed."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_token(self) -> str:
        return self._token

    async def refresh(self, stale: str) -> str:
        if stale != self._token:
            return self._token
        raise AuthError(403, "oauth", None, "a static token cannot be refreshed")


Refresher = Callable[[TokenPair], Awaitable[TokenPair]]
"""Replaces the token-endpoint exchange: gets the current (refused) pair, returns a new one.

The bot passes one that locks the token row in the database, so that replicas do not
spend the same refresh token twice: if the row already holds a newer pair, it returns
that pair without calling the endpoint.
"""


class OAuthTokenProvider:
    """Tokens from the partner's OAuth endpoint, refreshed with ``grant_type=refresh_token``.

    ``on_refresh`` receives every new pair so the caller can persist it (refresh tokens
    may be single-use: a lost pair means a new SMS login). A failure of ``on_refresh`` is
    logged and does not fail the request: the new token is valid either way.
    ``refresh_margin``: ``get_token`` refreshes proactively this long before expiry.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        pair: TokenPair,
        *,
        http: httpx.AsyncClient,
        on_refresh: Callable[[TokenPair], Awaitable[None]] | None = None,
        refresher: Refresher | None = None,
        refresh_margin: timedelta = timedelta(minutes=10),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._pair = pair
        self._http = http
        self._on_refresh = on_refresh
        self._refresher = refresher
        self._margin = refresh_margin
        self._now = now
        self._inflight: asyncio.Future[str] | None = None

    @property
    def pair(self) -> TokenPair:
        return self._pair

    async def get_token(self) -> str:
        current = self._pair.access_token
        if self._pair.expires_within(self._margin, self._now()):
            try:
                return await self.refresh(current)
            except PartnerApiError as exc:
                # The old token may still work for a while; the 403 path will try again.
                logger.warning("partner token: proactive refresh failed: %s", type(exc).__name__)
        return current

    async def refresh(self, stale: str) -> str:
        if stale != self._pair.access_token:
            return self._pair.access_token
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._do_refresh())
            self._inflight.add_done_callback(self._clear_inflight)
        # shield: a waiter that is cancelled must not cancel the exchange the others share.
        return await asyncio.shield(self._inflight)

    def _clear_inflight(self, fut: asyncio.Future[str]) -> None:
        if self._inflight is fut:
            self._inflight = None
        if not fut.cancelled():
            fut.exception()  # marks the exception retrieved even if nobody waits any more

    async def _do_refresh(self) -> str:
        old = self._pair
        if self._refresher is not None:
            new = await self._refresher(old)
        else:
            if not old.refresh_token:
                raise AuthError(403, "oauth", None, "no refresh token to refresh with")
            new = await exchange_refresh_token(
                self._http, self._token_url, self._client_id, old.refresh_token
            )
        if new.refresh_token is None and old.refresh_token is not None:
            # Endpoints that do not rotate refresh tokens omit it: keep the old one.
            new = TokenPair(new.access_token, old.refresh_token, new.expires_at)
        self._pair = new
        logger.info("partner token refreshed, expires_at=%s", new.expires_at)
        if self._on_refresh is not None:
            try:
                await self._on_refresh(new)
            except Exception as exc:
                # No message: a database error would quote the row, i.e. the tokens.
                logger.error(
                    "partner token: on_refresh failed; the new pair is not stored: %s",
                    describe(exc),
                )
        return new.access_token


# --------------------------------------------------------------------------- exchanges


async def _post_token(http: httpx.AsyncClient, token_url: str, form: dict[str, str]) -> TokenPair:
    grant = form.get("grant_type", "?")
    try:
        response = await http.post(token_url, data=form, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        logger.warning("partner token endpoint unreachable grant=%s error=%s", grant,
                       type(exc).__name__)
        raise ApiUnavailable(f"token endpoint: {type(exc).__name__}") from exc
    logger.info("partner token endpoint grant=%s status=%s", grant, response.status_code)
    if response.status_code >= 500 or response.status_code == 429:
        raise ApiUnavailable("token endpoint failed", status=response.status_code)
    if response.status_code >= 400:
        obj, body = parse_error_body(response.content)
        # OAuth endpoints answer {"error": "invalid_grant", "error_description": ...}.
        err = obj.get("error") if obj else None
        desc = obj.get("error_description") if obj else None
        raise AuthError(
            response.status_code,
            "oauth",
            err if isinstance(err, str) else None,
            desc if isinstance(desc, str) else None,
            body,
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise AuthError(response.status_code, "oauth", None, "token answer is not JSON") from exc
    return TokenPair.from_token_response(data)


async def exchange_refresh_token(
    http: httpx.AsyncClient, token_url: str, client_id: str, refresh_token: str
) -> TokenPair:
    """``grant_type=refresh_token`` → a new pair. AuthError if refused, ApiUnavailable if down."""
    return await _post_token(
        http,
        token_url,
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


async def exchange_sms_code(
    http: httpx.AsyncClient, token_url: str, client_id: str, phone_e164: str, code: str
) -> TokenPair:
    """``grant_type=password`` with the phone as username and the SMS code as password."""
    return await _post_token(
        http,
        token_url,
        {"grant_type": "password", "username": phone_e164, "password": code,
         "client_id": client_id},
    )


async def request_validation_code(http: httpx.AsyncClient, base_url: str, phone: Phone) -> None:
    """Ask the service to send an SMS code to ``phone`` (first step of the login)."""
    url = base_url.rstrip("/") + "/api/v1/access/validation-code"
    body = {"phone": {"code": phone.code, "number": phone.number}}
    try:
        response = await http.post(url, json=body, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise ApiUnavailable(f"validation-code: {type(exc).__name__}") from exc
    logger.info("partner validation-code status=%s", response.status_code)
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.content)
