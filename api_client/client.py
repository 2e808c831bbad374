"""Async client of the partner API's callback consultations (and its doctor routes).

One ``httpx.AsyncClient`` for the life of the application (injectable for tests).

Safety of repeats
    * GETs are retried on 429 (``Retry-After`` honoured), 502/503/504, timeouts and
      connection errors, per ``RetryPolicy``; exhausted → ``ApiUnavailable``.
    * ``start-callback`` is not idempotent: it is never repeated once the request may
      have reached the server. A timeout, reset or unreadable answer after sending →
      ``OutcomeUnknown`` (also a 502/504: a gateway may have forwarded the request before
      failing). Only failures that guarantee nothing was sent — ``httpx.ConnectError``,
      ``ConnectTimeout``, ``PoolTimeout`` (no connection was ever obtained) — and a 503 or
      429 *answer* (a definite refusal) become ``ApiUnavailable``. A 403 ``oauth`` is a
      definite answer too, so the start is repeated once after a token refresh.
    * ``terminate-callback`` is retried like a GET; a 409 after an attempt that may have
      reached the server counts as success (that attempt terminated it).

Multipart phone field
    With an attachment the start is ``multipart/form-data`` and ``patientPhone`` cannot
    travel as a JSON object. The default, ``PhoneFormField.DOTTED``, sends
    ``patientPhone.code`` and ``patientPhone.number``: the service is ASP.NET, whose model
    binder reads nested form fields in that dotted form. ``BRACKET``
    (``patientPhone[code]``) and ``JSON`` (one field holding ``{"code":..,"number":..}``)
    are there for deployments that bind differently.

Logging: method, route, status, duration, attempt and callback id as key=value pairs
(also in ``extra``) — never the patient's name or phone, the token, or a request body.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from api_client.auth import TokenProvider
from api_client.errors import (
    ApiUnavailable,
    AttachmentTooLarge,
    AuthError,
    OutcomeUnknown,
    PartnerApiError,
    RouteUnavailable,
    ServerError,
    error_from_response,
    parse_error_body,
)
from api_client.models import Callback, CallbackPage, Doctor, Phone, RequestStatus, unwrap_item
from api_client.retry import RetryPolicy, parse_retry_after

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_ATTACHMENT_BYTES",
    "Attachment",
    "PartnerApiClient",
    "PhoneFormField",
]

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

_CALLBACK = "/api/v1/callbackrequest"
_DOCTOR = "/api/v1/doctor"
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Gateway answers after which the request may have reached the application.
_MAYBE_PROCESSED_STATUSES = frozenset({502, 504})
# Failures raised before a connection existed, so not a byte of the request was sent.
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures worth another attempt for a repeatable request.
_RETRYABLE_EXC = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

Order = Literal["Created", "Status"]
_M = TypeVar("_M", Callback, CallbackPage, Doctor)


class PhoneFormField(enum.StrEnum):
    """How ``patientPhone`` travels in a multipart start (see the module docstring)."""

    DOTTED = "dotted"  # patientPhone.code / patientPhone.number (ASP.NET model binding)
    BRACKET = "bracket"  # patientPhone[code] / patientPhone[number]
    JSON = "json"  # patientPhone = '{"code": "7", "number": "..."}'


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:  # the content (a patient's document) never goes to a log
        return f"Attachment(filename=…, size={len(self.content)}, type={self.content_type!r})"


class PartnerApiClient:
    """Typed methods over the partner API. Use as ``async with PartnerApiClient(...) as api``."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        http: httpx.AsyncClient | None = None,
        max_url_length: int = 1800,
        phone_form: PhoneFormField = PhoneFormField.DOTTED,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._tokens = token_provider
        self._timeout = timeout
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        self.max_url_length = max_url_length
        self.phone_form = phone_form
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

    # ------------------------------------------------------------------ callbacks

    async def start_callback(
        self,
        doctor_id: int,
        phone: Phone,
        patient_full_name: str,
        *,
        begin_at: datetime | None = None,
        duration_min: int | None = None,
        attachment: Attachment | None = None,
        notification_url: str | None = None,
    ) -> Callback:
        """Start a callback consultation. Never repeated once it may have reached the server.

        Raises ``AttachmentTooLarge``/``ValueError`` before sending, ``OutcomeUnknown`` when
        the answer was lost, ``ApiUnavailable`` when nothing was done, ``ApiError`` subclasses
        for the service's refusals.
        """
        if attachment is not None and len(attachment.content) > MAX_ATTACHMENT_BYTES:
            raise AttachmentTooLarge(len(attachment.content), MAX_ATTACHMENT_BYTES)
        if begin_at is not None and begin_at.utcoffset() is None:
            raise ValueError("begin_at must be timezone-aware")
        if duration_min is not None and duration_min <= 0:
            raise ValueError("duration_min must be positive")

        fields: dict[str, str] = {
            "doctorId": str(doctor_id),
            "patientFullName": patient_full_name,
        }
        if begin_at is not None:
            fields["beginAtUtc"] = begin_at.astimezone(UTC).isoformat(timespec="seconds")
        if duration_min is not None:
            fields["duration"] = str(duration_min)
        if notification_url is not None:
            fields["externalNotificationUrl"] = notification_url

        content: dict[str, Any]
        if attachment is None:
            body: dict[str, Any] = {
                "doctorId": doctor_id,
                "patientPhone": {"code": phone.code, "number": phone.number},
                **{k: v for k, v in fields.items() if k != "doctorId"},
            }
            if duration_min is not None:
                body["duration"] = duration_min
            content = {"json": body}
        else:
            content = {
                "data": {**fields, **self._phone_fields(phone)},
                "files": {
                    "attachment": (attachment.filename, attachment.content, attachment.content_type)
                },
            }

        url = f"{self._base}{_CALLBACK}/start-callback"
        response = await self._send_start(url, content)
        if response.status_code >= 400:
            if response.status_code in _MAYBE_PROCESSED_STATUSES:
                raise OutcomeUnknown(f"start-callback answered {response.status_code} by a gateway")
            raise self._error(response)
        try:
            callback = Callback.parse_payload(response.json())
        except (ValueError, ValidationError) as exc:
            # The service said yes but we cannot read which consultation it created.
            raise OutcomeUnknown("start-callback answer could not be read") from exc
        logger.info(
            "partner_api started callback_id=%s doctor_id=%s", callback.id, doctor_id,
            extra={"callback_id": callback.id, "doctor_id": doctor_id},
        )
        return callback

    def _phone_fields(self, phone: Phone) -> dict[str, str]:
        if self.phone_form is PhoneFormField.BRACKET:
            return {"patientPhone[code]": phone.code, "patientPhone[number]": phone.number}
        if self.phone_form is PhoneFormField.JSON:
            return {"patientPhone": json.dumps({"code": phone.code, "number": phone.number})}
        return {"patientPhone.code": phone.code, "patientPhone.number": phone.number}

    async def _send_start(self, url: str, content: dict[str, Any]) -> httpx.Response:
        refreshed = False
        while True:
            token = await self._tokens.get_token()
            try:
                response = await self._send_once("POST", url, "start-callback", token, content)
            except _NOTHING_SENT as exc:
                raise ApiUnavailable(f"start-callback not sent: {type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                raise OutcomeUnknown(f"start-callback answer lost: {type(exc).__name__}") from exc
            if not refreshed and self._is_token_refused(response):
                refreshed = True
                await self._refresh(token, response)
                continue
            return response

    async def get_callback(self, callback_id: str) -> Callback:
        data = await self._get_json(
            f"{_CALLBACK}/get/{_quote(callback_id)}", "get", callback_id=callback_id
        )
        return self._parse(Callback, data)

    async def list_callbacks(
        self,
        *,
        ids: Sequence[str] | None = None,
        statuses: Iterable[RequestStatus | str] | None = None,
        order: Order = "Created",
        asc: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> CallbackPage:
        params = self._list_params(ids, statuses, order, asc, limit, offset)
        data = await self._get_json(f"{_CALLBACK}/get-all", "get-all", params=params)
        return self._parse(CallbackPage, data)

    async def iter_callbacks(
        self,
        *,
        ids: Sequence[str] | None = None,
        statuses: Iterable[RequestStatus | str] | None = None,
        order: Order = "Created",
        asc: bool = False,
        page_size: int = 50,
    ) -> AsyncIterator[Callback]:
        """Every matching consultation, page by page. A consultation that shifts between
        pages while iterating (new ones arrive on top) is yielded once."""
        status_list = list(statuses) if statuses is not None else None
        seen: set[str] = set()
        offset = 0
        while True:
            page = await self.list_callbacks(
                ids=ids, statuses=status_list, order=order, asc=asc,
                limit=page_size, offset=offset,
            )
            for item in page.items:
                if item.id not in seen:
                    seen.add(item.id)
                    yield item
            # Unreadable entries (dropped by the model) still advance the offset.
            offset += page.received
            if not page.received or (
                page.total_count is not None and offset >= page.total_count
            ):
                return
            if page.total_count is None and page.received < page_size:
                return

    async def terminate_callback(self, callback_id: str) -> bool:
        """Terminate; True when the service confirms. Safe to repeat on network errors."""
        url = f"{self._base}{_CALLBACK}/terminate-callback"
        response, maybe_sent = await self._send_repeatable(
            "POST", url, "terminate-callback", {"json": {"requestId": callback_id}},
            callback_id=callback_id,
        )
        if response.status_code == 409 and maybe_sent:
            # An earlier attempt got through and terminated it; this repeat is the echo.
            logger.info("partner_api terminate repeat answered 409: counted as success",
                        extra={"callback_id": callback_id})
            return True
        if response.status_code >= 400:
            raise self._error(response)
        try:
            data = unwrap_item(response.json()) if response.content.strip() else None
        except ValueError:
            return True  # a 2xx without a JSON body: the service did not object
        if isinstance(data, dict) and "success" in data:
            return data["success"] is True
        return True

    async def get_many(self, ids: Iterable[str]) -> list[Callback]:
        """Consultations for ``ids`` through ``get-all``, in batches whose URL fits
        ``max_url_length``. Returned in the order of ``ids``; ids the service does not
        return are absent."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Callback] = {}
        for batch in self._url_batches(wanted):
            offset = 0
            while True:
                page = await self.list_callbacks(ids=batch, limit=len(batch), offset=offset)
                for item in page.items:
                    found[item.id] = item
                offset += page.received  # unreadable entries dropped still count
                # A server that caps `limit` below the batch size: page through the rest.
                total = page.total_count if page.total_count is not None else offset
                if not page.received or offset >= min(total, len(batch)):
                    break
        return [found[i] for i in wanted if i in found]

    def _url_batches(self, ids: list[str]) -> list[list[str]]:
        """Split ids into the longest runs whose get-all URL fits in ``max_url_length``.

        The length is kept as a running sum (O(n), not an O(n²) re-encoding of the whole URL
        per id): each ``ids=<id>`` item is encoded on its own and adds its length plus one
        ``&``; the rest of the URL is fixed except the digits of ``limit=len(batch)`` and
        ``offset``. A server that caps its pages makes get_many page through a batch with
        growing offsets, all below ``len(batch)``: the batch is measured with
        ``offset=len(batch)``, the worst case, so every page's URL fits.
        """
        # The URL with no ids, limit=0 and offset=0; both "0"s are swapped for the digits
        # of len(batch).
        fixed = self._list_url_length([]) - 2

        def numbers(size: int) -> int:  # limit=<size> and worst-case offset=<size>
            return 2 * len(str(size))

        batches: list[list[str]] = []
        batch: list[str] = []
        ids_length = 0  # the batch's "ids=…&" items, separators included
        for callback_id in ids:
            item = len(str(httpx.QueryParams([("ids", callback_id)]))) + 1
            if fixed + ids_length + item + numbers(len(batch) + 1) <= self.max_url_length:
                batch.append(callback_id)
                ids_length += item
                continue
            if not batch:
                raise ValueError("a single id does not fit in max_url_length")
            batches.append(batch)
            batch, ids_length = [callback_id], item
            if fixed + ids_length + numbers(1) > self.max_url_length:
                raise ValueError("a single id does not fit in max_url_length")
        if batch:
            batches.append(batch)
        return batches

    def _list_url_length(self, ids: list[str]) -> int:
        """The get-all URL's length for ``ids`` at its longest: limit and offset len(ids)."""
        params = self._list_params(ids, None, "Created", False, len(ids), len(ids))
        return len(str(httpx.URL(f"{self._base}{_CALLBACK}/get-all", params=params)))

    @staticmethod
    def _list_params(
        ids: Sequence[str] | None,
        statuses: Iterable[RequestStatus | str] | None,
        order: str,
        asc: bool,
        limit: int,
        offset: int,
    ) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("ids", i) for i in ids or ()]
        # A status this code does not know yet is passed through as written.
        params += [
            ("statuses", s.value if isinstance(s, RequestStatus) else str(s))
            for s in statuses or ()
        ]
        params += [
            ("order", order),
            ("asc", "true" if asc else "false"),
            ("limit", str(limit)),
            ("offset", str(offset)),
        ]
        return params

    # ------------------------------------------------------------------ doctors

    async def get_doctor(self, doctor_id: int) -> Doctor:
        """One doctor; ``NotFound`` for an unknown id, ``RouteUnavailable`` when the
        deployment does not offer the doctor routes."""
        data = await self._get_json(
            f"{_DOCTOR}/get/{int(doctor_id)}", "doctor-get", doctor_route=True
        )
        return self._parse(Doctor, data)

    async def list_doctors(
        self,
        *,
        last_name: str | None = None,
        first_name: str | None = None,
        specialty_ids: Iterable[int] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Doctor]:
        params: list[tuple[str, str]] = []
        if last_name:
            params.append(("lastName", last_name))
        if first_name:
            params.append(("firstName", first_name))
        params += [("specialtyIds", str(int(s))) for s in specialty_ids or ()]
        params += [("limit", str(limit)), ("offset", str(offset))]
        data = unwrap_item(
            await self._get_json(
                f"{_DOCTOR}/get-all", "doctor-get-all", params=params, doctor_route=True
            )
        )
        items = data.get("items") if isinstance(data, dict) else data
        if items is None:
            items = []
        if not isinstance(items, list):
            raise ServerError(200, "invalid_response", None, "doctor list is not a list")
        doctors: list[Doctor] = []
        for raw in items:
            try:
                doctors.append(Doctor.parse_payload(raw))
            except ValidationError:
                logger.warning("partner_api dropped an unreadable doctor entry")
        return doctors

    # ------------------------------------------------------------------ transport

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
                if not isinstance(exc, _NOTHING_SENT):
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
                if status in _MAYBE_PROCESSED_STATUSES:
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
            ms = (time.perf_counter() - started) * 1000
            logger.warning(
                "partner_api method=%s route=%s error=%s duration_ms=%.0f callback_id=%s",
                method, route, type(exc).__name__, ms, callback_id,
                extra={**extra, "error": type(exc).__name__, "duration_ms": round(ms)},
            )
            raise
        ms = (time.perf_counter() - started) * 1000
        level = logging.DEBUG if response.status_code < 400 else logging.WARNING
        logger.log(
            level,
            "partner_api method=%s route=%s status=%d duration_ms=%.0f callback_id=%s",
            method, route, response.status_code, ms, callback_id,
            extra={**extra, "status": response.status_code, "duration_ms": round(ms)},
        )
        return response

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


def _quote(segment: str) -> str:
    return quote(segment, safe="")
