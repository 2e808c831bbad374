"""Pydantic models of the partner API contracts (see shared/partner-api.md).

Parsing is deliberately tolerant, because the real service is: unknown fields are
ignored, missing or null fields become ``None`` (lists become ``[]``), the misspelt
``costPerMinuite`` is accepted beside ``costPerMinute``, naive timestamps are read as
UTC and every datetime comes back timezone-aware, and a single object may arrive bare
or wrapped as ``{"item": {...}}``. A nested object or timestamp that cannot be read
degrades to ``None`` instead of failing the whole consultation: a card with one field
missing is better than no card at all.
"""

from __future__ import annotations

import enum
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

import phonenumbers
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

logger = logging.getLogger(__name__)

__all__ = [
    "Actor",
    "ApiModel",
    "Call",
    "Callback",
    "CallbackPage",
    "ConsultationType",
    "Currency",
    "Doctor",
    "Feedback",
    "Media",
    "MedicalReport",
    "Money",
    "NamedRef",
    "Patient",
    "Phone",
    "RequestStatus",
    "StatusHistory",
    "StatusRef",
    "TimelineEvent",
    "Transaction",
    "unwrap_item",
]


# --------------------------------------------------------------------------- helpers


def unwrap_item(payload: Any) -> Any:
    """Return the object inside an ``{"item": {...}}`` wrapper, or the payload itself.

    Only a dict whose ``item`` is a dict and that has no ``id`` of its own is a wrapper:
    a real object that merely has an ``item`` field stays as it is.
    """
    if isinstance(payload, dict) and isinstance(payload.get("item"), dict) and "id" not in payload:
        return payload["item"]
    return payload


def _as_utc(value: Any) -> Any:
    # The real service sends naive stamps that are UTC; aware ones are normalised to UTC
    # so that comparisons and storage never mix zones.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return value


def _none_on_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return _as_utc(handler(value))
    except ValidationError as exc:
        # Never log the value itself: it may be a patient's phone or name.
        logger.debug("partner api: unreadable field dropped (%s errors)", exc.error_count())
        return None


def _null_to_empty(value: Any) -> Any:
    return [] if value is None else value


def _birth_date(value: Any) -> Any:
    # "1980-01-01T00:00:00" (and with a non-zero time or offset) → the date part only:
    # a birth date is a calendar date, not an instant to shift between zones.
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[0]
    return value


def _lenient_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return round(value)
    return value


UtcDateTime = Annotated[datetime | None, WrapValidator(_none_on_error)]
"""A timestamp: naive → UTC, aware → converted to UTC, unreadable → None."""

LenientInt = Annotated[int | None, BeforeValidator(_lenient_int)]


_T = TypeVar("_T")

Lenient = Annotated[_T | None, WrapValidator(_none_on_error)]
"""An optional nested object that degrades to None when it cannot be read."""

Items = Annotated[list[_T], BeforeValidator(_null_to_empty)]
"""A list that may be missing or null (→ [])."""


class ApiModel(BaseModel):
    """Base of every contract model: camelCase aliases, snake_case names, tolerant."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        coerce_numbers_to_str=True,
    )


class _Unwrapping(ApiModel):
    """A top-level object that may come bare or as ``{"item": {...}}``."""

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        return unwrap_item(data)

    @classmethod
    def parse_payload(cls, payload: Any) -> Self:
        """Parse a decoded JSON answer, bare or wrapped."""
        return cls.model_validate(payload)


# --------------------------------------------------------------------------- enums


class RequestStatus(enum.StrEnum):
    """Status of a consultation; ``UNKNOWN`` stands for any status the service adds later."""

    REGISTERED = "Registered"
    PRE_PROCESSING = "PreProcessing"
    DELAYED = "Delayed"
    PROCESSING = "Processing"
    POST_PROCESSING = "PostProcessing"
    PROCESSED = "Processed"
    UNSUCCESSFUL = "Unsuccessful"
    UNKNOWN = "Unknown"

    @classmethod
    def _missing_(cls, value: object) -> RequestStatus:
        # Some answers carry the status's number (4, "4") instead of its name.
        # bool is an int subclass but never a status number.
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.from_number(value)
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit():
                return cls.from_number(int(text))
            for member in cls:
                if member.value.lower() == text.lower():
                    return member
        return cls.UNKNOWN

    @property
    def number(self) -> int:
        """The service's ordinal of the status, 1..7; 0 for an unknown one."""
        return _STATUS_NUMBERS[self]

    @property
    def is_final(self) -> bool:
        """Processed and Unsuccessful never change again."""
        return self in (RequestStatus.PROCESSED, RequestStatus.UNSUCCESSFUL)

    @classmethod
    def from_number(cls, number: int) -> RequestStatus:
        for member, num in _STATUS_NUMBERS.items():
            if num == number and member is not cls.UNKNOWN:
                return member
        return cls.UNKNOWN


_STATUS_NUMBERS: dict[RequestStatus, int] = {
    RequestStatus.REGISTERED: 1,
    RequestStatus.PRE_PROCESSING: 2,
    RequestStatus.DELAYED: 3,
    RequestStatus.PROCESSING: 4,
    RequestStatus.POST_PROCESSING: 5,
    RequestStatus.PROCESSED: 6,
    RequestStatus.UNSUCCESSFUL: 7,
    RequestStatus.UNKNOWN: 0,
}


# --------------------------------------------------------------------------- small objects


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


class ConsultationType(ApiModel):
    id: int | str | None = None
    type: Lenient[NamedRef] = None  # Callback / Writing / Voip / Video
    cost: Lenient[Money] = None
    is_available: bool | None = None
    is_disabled: bool | None = None


class Doctor(_Unwrapping):
    id: int | None = None
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    avatar_url: str | None = None
    birth_date: Annotated[
        date | None, BeforeValidator(_birth_date), WrapValidator(_none_on_error)
    ] = None
    region: Lenient[NamedRef] = None
    degree: Lenient[NamedRef] = None
    position: Lenient[NamedRef] = None
    specialties: Items[NamedRef] = Field(default_factory=list)
    consultation_types: Items[ConsultationType] = Field(default_factory=list)

    @property
    def full_name(self) -> str:
        """"Фамилия Имя Отчество" from the parts present; "" when none is."""
        parts = (self.last_name, self.first_name, self.middle_name)
        return " ".join(p.strip() for p in parts if p and p.strip())

    @property
    def callback_type(self) -> ConsultationType | None:
        """The doctor's "Callback" consultation type (cost, availability), if offered."""
        for ctype in self.consultation_types:
            if ctype.type is not None and ctype.type.id == "Callback":
                return ctype
        return None


class MedicalReport(ApiModel):
    text: str | None = None
    created_at_utc: UtcDateTime = None
    attachments: Items[Media] = Field(default_factory=list)
    doctor: Lenient[Doctor] = None


class Feedback(ApiModel):
    rate: float | None = None
    comment: str | None = None
    created_at_utc: UtcDateTime = None
    actor: Lenient[Actor] = None


class Transaction(ApiModel):
    amount: Lenient[Money] = None
    created_at_utc: UtcDateTime = None
    completed_at_utc: UtcDateTime = None
    operation: Any = None


class Patient(ApiModel):
    partner_patient_id: str | None = None


class Callback(_Unwrapping):
    """A callback consultation as the service reports it."""

    id: str
    status: Lenient[StatusRef] = None
    created_at_utc: UtcDateTime = None
    patient_phone: Lenient[Phone] = None
    patient_full_name: str | None = None
    doctor_full_name: str | None = None
    doctor: Lenient[Doctor] = None
    cost_per_minute: Lenient[Money] = Field(
        default=None,
        validation_alias=AliasChoices("costPerMinute", "costPerMinuite", "cost_per_minute"),
        serialization_alias="costPerMinute",
    )
    calls: Items[Call] = Field(default_factory=list)
    statuses: Items[StatusHistory] = Field(default_factory=list)
    timeline: Items[TimelineEvent] = Field(default_factory=list)
    medical_report: Lenient[MedicalReport] = None
    attachments: Items[Media] = Field(default_factory=list)
    feedbacks: Items[Feedback] = Field(default_factory=list)
    transactions: Items[Transaction] = Field(default_factory=list)
    patient: Lenient[Patient] = None

    @property
    def current_status(self) -> RequestStatus:
        """The current status; from the history when ``status`` itself is missing."""
        if self.status is not None:
            return self.status.id
        dated = [s for s in self.statuses if s.status is not None]
        if not dated:
            return RequestStatus.UNKNOWN
        latest = max(dated, key=lambda s: s.created_at_utc or datetime.min.replace(tzinfo=UTC))
        assert latest.status is not None  # filtered above; for the type checker
        return latest.status.id

    @property
    def doctor_id(self) -> int | None:
        return self.doctor.id if self.doctor is not None else None

    def __repr_args__(self) -> Any:
        # Patient data stays out of repr() (tracebacks, debug logs).
        for name, value in super().__repr_args__():
            if name not in ("patient_full_name", "patient_phone", "patient", "medical_report"):
                yield name, value


class CallbackPage(ApiModel):
    """One page of ``get-all``: ``count`` items here, ``total_count`` matching in all.

    An entry that cannot be read as a consultation (no id, not an object) is dropped and
    counted in ``dropped`` rather than failing the page: one odd consultation must not hide
    the other 39 of a reconcile batch. Paging goes by ``received`` (entries the service
    sent, readable or not), so the offsets stay the service's.
    """

    items: Items[Callback] = Field(default_factory=list)
    count: int = 0
    total_count: int | None = None
    _dropped: int = PrivateAttr(default=0)

    @model_validator(mode="wrap")
    @classmethod
    def _shape(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        data = unwrap_item(data)
        if isinstance(data, list):  # a bare list of consultations
            data = {"items": data}
        dropped = 0
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            kept: list[Callback] = []
            for entry in data["items"]:
                try:
                    kept.append(
                        entry if isinstance(entry, Callback) else Callback.model_validate(entry)
                    )
                except ValidationError:
                    dropped += 1
            if dropped:
                # Only the count: an entry may hold a patient's name or phone.
                logger.warning(
                    "partner api: %d unreadable consultation(s) dropped from a page of %d",
                    dropped, len(data["items"]),
                )
                if "count" not in data:
                    data = {**data, "count": len(data["items"])}
            data = {**data, "items": kept}
        page = handler(data)
        if isinstance(page, CallbackPage):
            page._dropped = dropped
        return page

    @model_validator(mode="after")
    def _count_default(self) -> Self:
        if "count" not in self.model_fields_set:
            self.count = len(self.items)
        return self

    @property
    def dropped(self) -> int:
        """Entries of this page that could not be read and were left out of ``items``."""
        return self._dropped

    @property
    def received(self) -> int:
        """Entries the service sent on this page, readable or not (for paging offsets)."""
        return len(self.items) + self._dropped

    @classmethod
    def parse_payload(cls, payload: Any) -> CallbackPage:
        return cls.model_validate(payload)
