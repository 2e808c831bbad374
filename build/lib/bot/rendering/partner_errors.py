"""Partner API errors in plain words: one sentence per error ``code``, from the Fluent locales.

``api_client`` gives a code and fields only (``value``, ``status``, ``retry_after``…); the
sentences live in ``bot/locales/<lang>/partner.ftl``. Pure: ``t`` is any translator
(``t(key, **args) -> str``), so the chat handlers and the CLI tools word errors alike.
Never shows JSON, a traceback, an HTTP status or the service's ``description`` (which may
echo a patient's name or phone).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from api_client.errors import BadArgument, NotFound, PartnerApiError

Translate = Callable[..., str]

# Every code of api_client.errors → its sentence.
CODE_KEYS: dict[str, str] = {
    "error": "partner-error",
    "refused": "partner-error-refused",
    "bad_argument": "partner-error-bad-argument",
    "limit_exceeded": "partner-error-limit-exceeded",
    "insufficient_funds": "partner-error-insufficient-funds",
    "auth": "partner-error-auth",
    "forbidden": "partner-error-forbidden",
    "not_found": "partner-error-not-found",
    "conflict": "partner-error-conflict",
    "server_error": "partner-error-server-error",
    "route_unavailable": "partner-error-route-unavailable",
    "unavailable": "partner-error-unavailable",
    "outcome_unknown": "partner-error-outcome-unknown",
    "attachment_too_large": "partner-error-attachment-too-large",
}

# NotFound.value (letters only, lower case) → the sentence naming what was not found.
NOT_FOUND_KEYS: dict[str, str] = {
    "doctor": "partner-error-not-found-doctor",
    "callback": "partner-error-not-found-consultation",
    "callbackrequest": "partner-error-not-found-consultation",
    "request": "partner-error-not-found-consultation",
    "consultation": "partner-error-not-found-consultation",
}

# Parameter names of start-callback and the list routes (letters only, lower case) → the
# key of their words.
FIELD_KEYS: dict[str, str] = {
    "doctorid": "partner-field-doctorid",
    "patientphone": "partner-field-patientphone",
    "patientfullname": "partner-field-patientfullname",
    "beginatutc": "partner-field-beginatutc",
    "duration": "partner-field-duration",
    "attachment": "partner-field-attachment",
    "externalnotificationurl": "partner-field-externalnotificationurl",
    "ids": "partner-field-ids",
    "id": "partner-field-id",
    "requestid": "partner-field-id",
    "statuses": "partner-field-statuses",
    "limit": "partner-field-limit",
    "offset": "partner-field-offset",
}

# A parameter name not in FIELD_KEYS is shown as is only when it looks like one; anything
# else (free text, JSON) is not shown at all.
_PLAIN_NAME = re.compile(r"[A-Za-z][\w.\[\]-]{0,39}")


def _letters(value: str | None) -> str:
    return re.sub(r"[^a-z]", "", (value or "").lower())


def _field_words(t: Translate, value: str | None) -> str | None:
    if not value:
        return None
    key = _letters(value)
    # "patientPhone.number" → patientphone…: match on the longest known prefix.
    for name in sorted(FIELD_KEYS, key=len, reverse=True):
        if key.startswith(name):
            return t(FIELD_KEYS[name])
    if _PLAIN_NAME.fullmatch(value):
        return t("partner-field-other", name=value)
    return None


def partner_error_text(t: Translate, exc: PartnerApiError) -> str:
    """One plain sentence for a coordinator about ``exc``, in ``t``'s language."""
    if isinstance(exc, BadArgument):
        field = _field_words(t, exc.value)
        if field is not None:
            return t("partner-error-bad-argument-field", field=field)
    if isinstance(exc, NotFound):
        kind = NOT_FOUND_KEYS.get(_letters(exc.value))
        if kind is not None:
            return t(kind)
    return t(CODE_KEYS.get(getattr(exc, "code", ""), "partner-error"))
