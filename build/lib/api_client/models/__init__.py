"""Pydantic models of the partner API contracts (see shared/partner-api.md).

Parsing is deliberately tolerant, because the real service is: unknown fields are
ignored, missing or null fields become ``None`` (lists become ``[]``), the misspelt
``costPerMinuite`` is accepted beside ``costPerMinute``, naive timestamps are read as
UTC and every datetime comes back timezone-aware, and a single object may arrive bare
or wrapped as ``{"item": {...}}``. A nested object or timestamp that cannot be read
degrades to ``None`` instead of failing the whole consultation: a card with one field
missing is better than no card at all.

Layout: ``base`` (the tolerant base model and field types), ``status`` (RequestStatus),
``parts`` (references, money, phone, calls, history), ``doctor``, ``callback`` (Callback,
CallbackPage and their report, feedback, transactions). Import from ``api_client.models``.
"""

from api_client.models.base import ApiModel, unwrap_item
from api_client.models.callback import (
    Callback,
    CallbackPage,
    Feedback,
    MedicalReport,
    Patient,
    Transaction,
)
from api_client.models.doctor import ConsultationType, Doctor
from api_client.models.parts import (
    Actor,
    Call,
    Currency,
    Media,
    Money,
    NamedRef,
    Phone,
    StatusHistory,
    StatusRef,
    TimelineEvent,
)
from api_client.models.status import RequestStatus

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
