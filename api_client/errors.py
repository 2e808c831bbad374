"""Errors of the partner API client.

Hierarchy::

    PartnerApiError                      every error of this package; .user_message(lang)
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
"""

from __future__ import annotations

import json
import re
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


def _lang(lang: str) -> str:
    return "ru" if lang.lower().startswith("ru") else "en"


class PartnerApiError(Exception):
    """Base of all partner API errors."""

    _messages: ClassVar[dict[str, str]] = {
        "ru": "Сервис консультаций вернул ошибку, попробуйте позже.",
        "en": "The consultation service returned an error; try again later.",
    }

    def user_message(self, lang: str = "ru") -> str:
        """One plain sentence for a coordinator, in Russian ("ru") or English."""
        return self._messages[_lang(lang)]


class ApiError(PartnerApiError):
    """The service answered with an error status and (usually) an error body."""

    _messages: ClassVar[dict[str, str]] = {
        "ru": "Сервис консультаций отклонил запрос.",
        "en": "The consultation service refused the request.",
    }

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
    # Parameter names of start-callback in words a coordinator knows.
    _FIELDS: ClassVar[dict[str, tuple[str, str]]] = {
        "doctorid": ("номер врача", "doctor id"),
        "patientphone": ("телефон пациента", "patient's phone"),
        "patientfullname": ("ФИО пациента", "patient's full name"),
        "beginatutc": ("время начала", "start time"),
        "duration": ("длительность", "duration"),
        "attachment": ("вложение", "attachment"),
        "externalnotificationurl": ("адрес уведомлений", "notification URL"),
        "ids": ("номера консультаций", "consultation ids"),
        "id": ("номер консультации", "consultation id"),
        "requestid": ("номер консультации", "consultation id"),
        "statuses": ("статусы", "statuses"),
        "limit": ("размер страницы", "page size"),
        "offset": ("смещение", "offset"),
    }

    def user_message(self, lang: str = "ru") -> str:
        ru = _lang(lang) == "ru"
        field = self._field_words(ru)
        if field is None:
            return (
                "Сервис консультаций отклонил один из параметров запроса."
                if ru
                else "The consultation service rejected one of the request's parameters."
            )
        return (
            f"Сервис консультаций отклонил параметр «{field}»."
            if ru
            else f"The consultation service rejected the {field}."
        )

    def _field_words(self, ru: bool) -> str | None:
        if not self.value:
            return None
        key = re.sub(r"[^a-z]", "", self.value.lower())
        # "patientPhone.number" → patientphone…: match on the longest known prefix.
        for name in sorted(self._FIELDS, key=len, reverse=True):
            if key.startswith(name):
                words = self._FIELDS[name]
                return words[0] if ru else words[1]
        # An unknown but harmless-looking parameter name is shown as is; anything else
        # (free text, JSON) is not.
        if re.fullmatch(r"[A-Za-z][\w.\[\]-]{0,39}", self.value):
            return self.value if ru else f"parameter “{self.value}”"
        return None


class LimitExceeded(ApiError):
    _messages: ClassVar[dict[str, str]] = {
        "ru": "Операция превысила бы лимит партнёрского аккаунта и не выполнена.",
        "en": "The operation would exceed a limit of the partner account and was not done.",
    }


class InsufficientFunds(ApiError):
    _messages: ClassVar[dict[str, str]] = {
        "ru": "На счёте партнёра недостаточно средств для консультации.",
        "en": "The partner account does not have enough funds for the consultation.",
    }


class AuthError(ApiError):
    _messages: ClassVar[dict[str, str]] = {
        "ru": "Бот не авторизован в сервисе консультаций, сообщите администратору.",
        "en": "The bot is not authorised with the consultation service; tell an administrator.",
    }


class Forbidden(ApiError):
    _messages: ClassVar[dict[str, str]] = {
        "ru": "Сервис консультаций запретил эту операцию.",
        "en": "The consultation service does not allow this operation.",
    }


class NotFound(ApiError):
    _KINDS: ClassVar[dict[str, tuple[str, str]]] = {
        "doctor": ("Врач с таким номером не найден.", "No doctor with this id."),
        "callback": ("Консультация не найдена.", "No such consultation."),
        "callbackrequest": ("Консультация не найдена.", "No such consultation."),
        "request": ("Консультация не найдена.", "No such consultation."),
        "consultation": ("Консультация не найдена.", "No such consultation."),
    }
    _messages: ClassVar[dict[str, str]] = {
        "ru": "Запрошенная запись не найдена.",
        "en": "The requested record was not found.",
    }

    def user_message(self, lang: str = "ru") -> str:
        key = re.sub(r"[^a-z]", "", (self.value or "").lower())
        if key in self._KINDS:
            ru, en = self._KINDS[key]
            return ru if _lang(lang) == "ru" else en
        return super().user_message(lang)


class Conflict(ApiError):
    _messages: ClassVar[dict[str, str]] = {
        "ru": "Операция невозможна в текущем состоянии консультации.",
        "en": "The operation is not possible in the consultation's current state.",
    }


class ServerError(ApiError):
    _messages: ClassVar[dict[str, str]] = {
        "ru": "В сервисе консультаций произошёл сбой, попробуйте позже.",
        "en": "The consultation service failed; try again later.",
    }


class RouteUnavailable(ApiError):
    """The deployment does not offer this route (e.g. the doctor directory)."""

    _messages: ClassVar[dict[str, str]] = {
        "ru": "Справочник врачей в этом сервисе недоступен, введите номер врача вручную.",
        "en": "This service does not offer the doctor directory; type the doctor's id instead.",
    }


class ApiUnavailable(PartnerApiError):
    """No usable answer: an outage status, a timeout, a connection failure, retries exhausted.

    Nothing was done by the service — or, for idempotent calls, it does not matter.
    """

    _messages: ClassVar[dict[str, str]] = {
        "ru": "Сервис консультаций сейчас недоступен, попробуйте через минуту.",
        "en": "The consultation service is unavailable right now; try again in a minute.",
    }

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

    _messages: ClassVar[dict[str, str]] = {
        "ru": "Ответ сервиса потерялся, и пока неизвестно, запущена ли консультация; "
        "не запускайте её повторно, мы проверяем.",
        "en": "The service's answer was lost and it is not yet known whether the "
        "consultation started; do not start it again, we are checking.",
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AttachmentTooLarge(PartnerApiError, ValueError):
    """The attachment exceeds the service's limit; refused before anything was sent."""

    _messages: ClassVar[dict[str, str]] = {
        "ru": "Вложение больше 10 МБ, приложите файл поменьше.",
        "en": "The attachment is larger than 10 MB; attach a smaller file.",
    }

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
