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

Layout: ``transport.py`` (one request, retries, token refresh, error mapping),
``callbacks.py`` (the consultation routes), ``url_batches.py`` (``get-all`` parameters and
id batches that fit a URL), ``doctors.py`` (the doctor routes); this module puts them
together and keeps the public names importable from here.
"""


from __future__ import annotations

import httpx

from api_client.auth import TokenProvider
from api_client.callbacks import (
    MAX_ATTACHMENT_BYTES,
    Attachment,
    CallbackRoutes,
    Order,
    PhoneFormField,
)
from api_client.doctors import DoctorRoutes
from api_client.retry import RetryPolicy
from api_client.transport import DEFAULT_TIMEOUT, OnRequest

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_ATTACHMENT_BYTES",
    "Attachment",
    "OnRequest",
    "Order",
    "PartnerApiClient",
    "PhoneFormField",
]


class PartnerApiClient(CallbackRoutes, DoctorRoutes):
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
        on_request: OnRequest | None = None,
    ) -> None:
        super().__init__(
            base_url, token_provider, timeout=timeout, http=http, retry=retry,
            on_request=on_request,
        )
        self.max_url_length = max_url_length
        self.phone_form = phone_form
