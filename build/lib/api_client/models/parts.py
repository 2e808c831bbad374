"""The small objects a consultation is made of: references, money, phone, calls, history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import phonenumbers
from pydantic import field_validator, model_validator

from api_client.models.base import ApiModel, Lenient, LenientInt, UtcDateTime
from api_client.models.status import RequestStatus


class NamedRef(ApiModel):
    """An ``{id, name}`` pair (region, degree, specialty, timeline type, ...)."""

    id: int | str | None = None
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_id(cls, data: Any) -> Any:
        return {"id": data} if isinstance(data, str | int) else data


class StatusRef(ApiModel):
    """``{"id": "Processing", "name": "В работе"}``; a bare status (name or number) too."""

    id: RequestStatus = RequestStatus.UNKNOWN
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_id(cls, data: Any) -> Any:
        return {"id": data} if isinstance(data, str | int) else data

    @field_validator("id", mode="before")
    @classmethod
    def _null_id(cls, value: Any) -> Any:
        return RequestStatus.UNKNOWN if value is None else value


class Currency(ApiModel):
    id: str | None = None  # RUB / USD / EUR / Bonus; kept as text so a new one never fails
    name: str | None = None


class Money(ApiModel):
    amount: Decimal | None = None
    currency: Lenient[Currency] = None


class Phone(ApiModel):
    """A phone as the API wants it: country code and national number, digits only."""

    code: str
    number: str

    @field_validator("code", "number", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        if isinstance(value, str):
            return "".join(ch for ch in value if ch.isdigit())
        return value

    @classmethod
    def from_e164(cls, value: str) -> Phone:
        """``"+79099708593"`` → ``Phone(code="7", number="9099708593")``; ValueError if invalid."""
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError("not a phone number in international format") from exc
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError("not a possible phone number")
        return cls(
            code=str(parsed.country_code),
            number=phonenumbers.national_significant_number(parsed),
        )

    @property
    def e164(self) -> str:
        return f"+{self.code}{self.number}"

    def __repr__(self) -> str:
        # Keeps a phone out of tracebacks and debug logs that repr() their arguments.
        return f"Phone(code={self.code!r}, number='…{self.number[-2:]}')"

    __str__ = __repr__


class Actor(ApiModel):
    id: str | None = None  # Patient / Doctor / System
    name: str | None = None


class Call(ApiModel):
    id: str | None = None
    actor: Lenient[Actor] = None
    duration: LenientInt = None  # seconds
    started_at_utc: UtcDateTime = None
    successful: bool | None = None


class StatusHistory(ApiModel):
    id: str | None = None
    status: Lenient[StatusRef] = None
    actor: Lenient[Actor] = None
    created_at_utc: UtcDateTime = None


class TimelineEvent(ApiModel):
    id: str | None = None
    type: Lenient[NamedRef] = None  # e.g. Accepted, Ended
    created_at_utc: UtcDateTime = None
    data: Any = None


class Media(ApiModel):
    id: str | None = None
    url: str | None = None
    name: str | None = None
    mime: str | None = None
    size: LenientInt = None
    image: Any = None
