"""Plain records of the emulator's state and the errors its routes answer with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from .seed import FINAL_STATUSES, JSON, STATUS_ORDER


class SandboxError(Exception):
    """An API error answer: HTTP status plus the body {"type", "value", "description"}."""

    def __init__(self, status: int, type_: str, value: str | None, description: str) -> None:
        super().__init__(f"{status} {type_} {value}: {description}")
        self.status = status
        self.type = type_
        self.value = value
        self.description = description

    def body(self) -> JSON:
        return {"type": self.type, "value": self.value, "description": self.description}


class TokenError(Exception):
    """An OAuth token-endpoint refusal ({"error", "error_description"}, status 400)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


class RequestRecord(NamedTuple):
    """One request that reached the emulator (control routes excluded)."""

    route: str | None  # "start", "get", …; None for a path no route serves
    method: str
    path_qs: str
    at: datetime
    fault: str | None  # fault kind applied to it, "414" for a refused long URL


class NotificationRecord(NamedTuple):
    callback_id: str
    status: str  # the consultation's status when the GET was fired
    http_status: int | None  # None when the GET failed
    error: str | None


@dataclass
class StatusEntry:
    id: str
    status: str
    actor: str
    at: datetime


@dataclass
class CallEntry:
    id: str
    actor: str
    duration: int
    started_at: datetime
    successful: bool


@dataclass
class TimelineEntry:
    id: str
    type: str
    name: str
    at: datetime
    data: JSON | None = None


@dataclass
class CallbackRecord:
    id: str
    seq: int
    doctor_id: int
    phone: tuple[str, str]
    patient_name: str | None
    created_at: datetime
    begin_at: datetime | None = None
    duration_min: int | None = None
    notification_url: str | None = None
    # Decided at start: True → the call takes place, False → the patient does not answer.
    will_succeed: bool = True
    statuses: list[StatusEntry] = field(default_factory=list)
    calls: list[CallEntry] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    report: tuple[str, datetime] | None = None
    attachments: list[JSON] = field(default_factory=list)
    transactions: list[JSON] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.statuses[-1].status

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


def api_time(dt: datetime) -> str:
    """The real service's stamp: naive UTC, whole seconds (`2017-03-22T14:39:07`)."""
    return dt.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def new_id() -> str:
    return str(uuid.uuid4())


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def normalize_status(value: Any) -> str:
    """A status name from a str or a str Enum member; known names matched case-insensitively.

    Unknown names are kept as they are, so tests can emit a status the client does not know.
    """
    text = str(getattr(value, "value", value))
    for known in STATUS_ORDER:
        if known.lower() == text.lower():
            return known
    return text
