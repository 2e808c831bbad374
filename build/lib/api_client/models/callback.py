"""A callback consultation as the service reports it, and one page of ``get-all``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from api_client.models.base import (
    ApiModel,
    Items,
    Lenient,
    UtcDateTime,
    _Unwrapping,
    logger,
    unwrap_item,
)
from api_client.models.doctor import Doctor
from api_client.models.parts import (
    Actor,
    Call,
    Media,
    Money,
    Phone,
    StatusHistory,
    StatusRef,
    TimelineEvent,
)
from api_client.models.status import RequestStatus


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
