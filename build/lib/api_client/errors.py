"""Errors of the partner API client.

Hierarchy::

    PartnerApiError                      every error of this package; .code names the kind
    ├── ApiError                         the service answered with an error status
    │   ├── BadArgument          400 bad_argument (``value`` names the parameter)
    │   ├── LimitExceeded        400 limit_exceeded
    │   ├── InsufficientFunds    402 insufficient_funds
    │   ├── AuthError            403 oauth (and 401): token expired or bad
    │   ├── Forbidden            403 forbidden
    │   ├── NotFound             404 not_found (``value`` names the kind, e.g. "doctor")
    │   ├── Conflict             409 conflict
    │   ├── ServerError          500 and other 5xx, or an unreadable success answer
    │   └── RouteUnavailable     the deployment does not offer the route (doctor routes)
    ├── ApiUnavailable                   no usable answer: 502/503/504, 429, timeouts,
    │                                    connection failures, retries exhausted
    ├── OutcomeUnknown                   start-callback may or may not have happened
    └── AttachmentTooLarge               refused before sending

``OutcomeUnknown`` is deliberately *not* an ``ApiUnavailable``: code that retries on
unavailability must never repeat a start whose answer was lost (the patient would be
called twice). ``str(error)`` carries status, type and value only — never the
``description`` or body, which may echo what was sent (a patient's name or phone).

Every class has a stable ``code`` ("unavailable", "not_found", "bad_argument", …) and its
fields (``status``, ``value``, ``retry_after``, ``size``…): this package holds no sentences
for people; the bot words each code in its own locales (``bot/rendering/partner_errors.py``).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "ApiUnavailable",
    "AttachmentTooLarge",
    "AuthError",
    "BadArgument",
    "Conflict",
    "Forbidden",
    "InsufficientFunds",
    "LimitExceeded",
    "NotFound",
    "OutcomeUnknown",
    "PartnerApiError",
    "RouteUnavailable",
    "ServerError",
    "error_from_response",
    "parse_error_body",
]


class PartnerApiError(Exception):
    """Base of all partner API errors.

    ``code`` is stable and names the kind of failure; the bot words it for people
    (``bot/rendering/partner_errors.py``). This package holds no user-facing sentences.
    """

    code: ClassVar[str] = "error"


class ApiError(PartnerApiError):
    """The service answered with an error status and (usually) an error body."""

    code: ClassVar[str] = "refused"

    def __init__(
        self,
        status: int,
        type: str | None = None,  # the API's own field name
        value: str | None = None,
        description: str | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.type = type
        self.value = value
        self.description = description
        self.body = body  # the parsed JSON body, or the raw text when it was not JSON
        super().__init__(status, type, value)

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}"]
        if self.type:
            parts.append(self.type)
        if self.value:
            parts.append(f"value={self.value}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


class BadArgument(ApiError):
    """``value`` names the refused parameter (e.g. "patientPhone.number"), when given."""

    code: ClassVar[str] = "bad_argument"


class LimitExceeded(ApiError):
    code: ClassVar[str] = "limit_exceeded"


class InsufficientFunds(ApiError):
    code: ClassVar[str] = "insufficient_funds"


class AuthError(ApiError):
    code: ClassVar[str] = "auth"


class Forbidden(ApiError):
    code: ClassVar[str] = "forbidden"


class NotFound(ApiError):
    """``value`` names the kind of record that was not found (e.g. "doctor"), when given."""

    code: ClassVar[str] = "not_found"


class Conflict(ApiError):
    code: ClassVar[str] = "conflict"


class ServerError(ApiError):
    code: ClassVar[str] = "server_error"


class RouteUnavailable(ApiError):
    """The deployment does not offer this route (e.g. the doctor directory)."""

    code: ClassVar[str] = "route_unavailable"


class ApiUnavailable(PartnerApiError):
    """No usable answer: an outage status, a timeout, a connection failure, retries exhausted.

    Nothing was done by the service — or, for idempotent calls, it does not matter.
    """

    code: ClassVar[str] = "unavailable"

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(reason)

    def __str__(self) -> str:
        status = f"HTTP {self.status}, " if self.status is not None else ""
        return f"{status}{self.reason} (attempts={self.attempts})"


class OutcomeUnknown(PartnerApiError):
    """The start-callback request may have reached the service but its answer was lost.

    The consultation may or may not exist: reconcile against ``get-all`` before anyone
    starts it again. Never a subclass of ``ApiUnavailable``, so generic retry code
    cannot repeat it by accident.
    """

    code: ClassVar[str] = "outcome_unknown"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AttachmentTooLarge(PartnerApiError, ValueError):
    """The attachment exceeds the service's limit; refused before anything was sent."""

    code: ClassVar[str] = "attachment_too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"attachment of {size} bytes exceeds the limit of {limit} bytes")


# --------------------------------------------------------------------------- mapping

_BY_TYPE: dict[str, type[ApiError]] = {
    "bad_argument": BadArgument,
    "limit_exceeded": LimitExceeded,
    "insufficient_funds": InsufficientFunds,
    "oauth": AuthError,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "conflict": Conflict,
    "internal_server_error": ServerError,
}

_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadArgument,
    401: AuthError,
    402: InsufficientFunds,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}

# Statuses that mean "try again later" rather than "this request is wrong".
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})


def parse_error_body(content: bytes | str) -> tuple[dict[str, Any] | None, Any]:
    """Decode an error body: (the error object if it is one, the body as kept on the error)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        return None, text
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        return inner, body
    return None, body


def _str_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def error_from_response(
    status: int, content: bytes | str, *, retry_after: float | None = None
) -> PartnerApiError:
    """The error for an HTTP error answer: by the body's ``type`` when it has one,
    else by the status (5xx bodies are often not JSON at all)."""
    if status in UNAVAILABLE_STATUSES:
        return ApiUnavailable(
            "service temporarily unavailable", status=status, retry_after=retry_after
        )
    obj, body = parse_error_body(content)
    err_type = _str_or_none(obj.get("type")) if obj else None
    value = _str_or_none(obj.get("value")) if obj else None
    description = _str_or_none(obj.get("description")) if obj else None
    cls = _BY_TYPE.get(err_type or "")
    if cls is None:
        cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    return cls(status, err_type, value, description, body)
