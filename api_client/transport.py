"""Transport of the partner API client: one request, retries, token refresh, errors.

``Transport`` is the base of ``PartnerApiClient`` (``api_client/client.py``, where the
safety rules of repeats are described): it owns the ``httpx.AsyncClient``, sends a request
once (``_send_once``, which logs it) or with retries per ``RetryPolicy``
(``_send_repeatable``), refreshes a refused token once, and turns error answers into
``PartnerApiError`` exceptions. The routes live in ``callbacks.py`` and ``doctors.py``.

Metrics: an optional ``on_request(route, outcome, seconds)`` is called after every attempt
(``route`` the fixed route name, ``outcome`` one of ``request_outcome``'s words); the
application turns it into Prometheus series (bot/metrics.py) without this package knowing.
A failing callback is logged and never fails the request.

Logging (logger ``api_client.client``, as before the split): method, route, status,
duration, attempt and callback id as key=value pairs (also in ``extra``) — never the
patient's name or phone, the token, or a request body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from api_client.auth import TokenProvider
from api_client.errors import (
    ApiUnavailable,
    AuthError,
    PartnerApiError,
    RouteUnavailable,
    ServerError,
    error_from_response,
    parse_error_body,
)
from api_client.models import Callback, CallbackPage, Doctor
from api_client.retry import RetryPolicy, parse_retry_after

# One logger for the whole client, whichever module of it logs.
logger = logging.getLogger("api_client.client")

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

CALLBACK_ROUTES = "/api/v1/callbackrequest"
DOCTOR_ROUTES = "/api/v1/doctor"
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Gateway answers after which the request may have reached the application.
MAYBE_PROCESSED_STATUSES = frozenset({502, 504})
# Failures raised before a connection existed, so not a byte of the request was sent.
NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures worth another attempt for a repeatable request.
_RETRYABLE_EXC = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_M = TypeVar("_M", Callback, CallbackPage, Doctor)

# (route, outcome, seconds) after every attempt; see ``request_outcome``.
OnRequest = Callable[[str, str, float], None]


def request_outcome(status: int | None, error: BaseException | None = None) -> str:
    """A few words for metrics: ``ok`` (< 400), ``rate_limited`` (429), ``client_error`` (other
    4xx), ``server_error`` (5xx), ``timeout`` or ``network_error`` (no answer)."""
    if status is None:
        return "timeout" if isinstance(error, httpx.TimeoutException) else "network_error"
    if status < 400:
        return "ok"
    if status == 429:
        return "rate_limited"
    return "client_error" if status < 500 else "server_error"


class Transport:
    """The HTTP side of the client: base URL, tokens, timeouts, retries, error mapping."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        on_request: OnRequest | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self.on_request = on_request
        self._tokens = token_provider
        self._timeout = timeout
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        self.retry = retry if retry is not None else RetryPolicy()

    @property
    def base_url(self) -> str:
        return self._base

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it (an injected one is the caller's)."""
        if self._owns_http:
            await self._http.aclose()

    async def _get_json(
        self,
        path: str,
        route: str,
        *,
        params: list[tuple[str, str]] | None = None,
        callback_id: str | None = None,
        doctor_route: bool = False,
    ) -> Any:
        content: dict[str, Any] = {"params": params} if params else {}
        response, _ = await self._send_repeatable(
            "GET", f"{self._base}{path}", route, content, callback_id=callback_id
        )
        if response.status_code >= 400:
            if doctor_route and self._is_route_missing(response):
                raise RouteUnavailable(
                    response.status_code, None, None, "doctor routes not offered",
                    parse_error_body(response.content)[1],
                )
            raise self._error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(
                response.status_code, "invalid_response", None, "answer is not JSON"
            ) from exc

    @staticmethod
    def _is_route_missing(response: httpx.Response) -> bool:
        if response.status_code in (405, 501):
            return True
        if response.status_code != 404:
            return False
        obj, _ = parse_error_body(response.content)
        # The service's own error object of type not_found means the route answered and the
        # doctor is unknown, whatever `value` names ("doctor", "Doctor", "doctorId", none):
        # guessing on `value` would turn an unknown doctor into "routes not offered". Only a
        # 404 without such an object (an HTML page, an empty body, a framework's own JSON
        # like ASP.NET's {"Message": ...}) is the route itself missing.
        err_type = obj.get("type") if obj else None
        return not (isinstance(err_type, str) and err_type.strip().lower() == "not_found")

    async def _send_repeatable(
        self,
        method: str,
        url: str,
        route: str,
        content: dict[str, Any],
        *,
        callback_id: str | None = None,
    ) -> tuple[httpx.Response, bool]:
        """Send with retries; returns the final non-retryable response and whether an
        earlier attempt may have reached the server."""
        policy = self.retry
        started = policy.clock()
        attempt = 0
        refreshed = False
        maybe_sent = False
        while True:
            attempt += 1
            token = await self._tokens.get_token()
            retry_after: float | None = None
            status: int | None = None
            try:
                response = await self._send_once(
                    method, url, route, token, content, callback_id=callback_id, attempt=attempt
                )
            except _RETRYABLE_EXC as exc:
                if not isinstance(exc, NOTHING_SENT):
                    maybe_sent = True
                reason = type(exc).__name__
                last_exc: Exception | None = exc
            except httpx.TransportError as exc:  # e.g. UnsupportedProtocol: no point retrying
                raise ApiUnavailable(f"{route}: {type(exc).__name__}", attempts=attempt) from exc
            else:
                if not refreshed and self._is_token_refused(response):
                    refreshed = True
                    attempt -= 1  # a refresh is not a failed attempt
                    await self._refresh(token, response)
                    continue
                if response.status_code not in _RETRY_STATUSES:
                    return response, maybe_sent
                status = response.status_code
                if status in MAYBE_PROCESSED_STATUSES:
                    maybe_sent = True
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                reason = f"HTTP {status}"
                last_exc = None
            delay = policy.next_delay(attempt, policy.clock() - started, retry_after)
            if delay is None:
                logger.warning(
                    "partner_api gave_up route=%s attempts=%d reason=%s", route, attempt, reason,
                    extra={"route": route, "attempts": attempt, "callback_id": callback_id},
                )
                raise ApiUnavailable(
                    f"{route}: {reason}", status=status, retry_after=retry_after, attempts=attempt
                ) from last_exc
            logger.info(
                "partner_api retry route=%s attempt=%d reason=%s delay=%.2f",
                route, attempt, reason, delay,
                extra={"route": route, "attempt": attempt, "callback_id": callback_id},
            )
            await policy.sleep(delay)

    async def _send_once(
        self,
        method: str,
        url: str,
        route: str,
        token: str,
        content: dict[str, Any],
        *,
        callback_id: str | None = None,
        attempt: int = 1,
    ) -> httpx.Response:
        request = self._http.build_request(
            method,
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=self._timeout,
            **content,
        )
        started = time.perf_counter()
        extra: dict[str, Any] = {
            "method": method, "route": route, "callback_id": callback_id, "attempt": attempt,
        }
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            seconds = time.perf_counter() - started
            self._report(route, request_outcome(None, exc), seconds)
            ms = seconds * 1000
            logger.warning(
                "partner_api method=%s route=%s error=%s duration_ms=%.0f callback_id=%s",
                method, route, type(exc).__name__, ms, callback_id,
                extra={**extra, "error": type(exc).__name__, "duration_ms": round(ms)},
            )
            raise
        seconds = time.perf_counter() - started
        self._report(route, request_outcome(response.status_code), seconds)
        ms = seconds * 1000
        level = logging.DEBUG if response.status_code < 400 else logging.WARNING
        logger.log(
            level,
            "partner_api method=%s route=%s status=%d duration_ms=%.0f callback_id=%s",
            method, route, response.status_code, ms, callback_id,
            extra={**extra, "status": response.status_code, "duration_ms": round(ms)},
        )
        return response

    def _report(self, route: str, outcome: str, seconds: float) -> None:
        if self.on_request is None:
            return
        try:
            self.on_request(route, outcome, seconds)
        except Exception as exc:  # metrics must never fail a request
            logger.warning("partner_api on_request_failed error=%s", type(exc).__name__)

    @staticmethod
    def _is_token_refused(response: httpx.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code != 403:
            return False
        obj, _ = parse_error_body(response.content)
        return bool(obj and obj.get("type") == "oauth")

    async def _refresh(self, stale: str, response: httpx.Response) -> None:
        try:
            await self._tokens.refresh(stale)
        except AuthError as exc:
            # Report the service's refusal, not the provider's inability to help.
            raise self._error(response) from exc

    @staticmethod
    def _error(response: httpx.Response) -> PartnerApiError:
        return error_from_response(
            response.status_code,
            response.content,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    @staticmethod
    def _parse(model: type[_M], data: Any) -> _M:
        try:
            return model.parse_payload(data)
        except ValidationError as exc:
            raise ServerError(
                200, "invalid_response", None, f"{model.__name__} not understood"
            ) from exc


def quote_segment(segment: str) -> str:
    """One URL path segment, every reserved character escaped."""
    return quote(segment, safe="")
