"""Keys of ``dialog_data`` and the step order (pure helpers, no Telegram)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.fsm.state import State

from bot.states import StartCallbackSG as SG

DOCTOR_ID = "doctor_id"
DOCTOR_NAME = "doctor_name"
DOCTOR_COST = "doctor_cost"  # "120 RUB" when the API told us
DOCTOR_UNAVAILABLE = "doctor_unavailable"
DOCTORS = "doctors"  # the doctor step's button list [{"id", "label", ...}] until one is chosen
PHONE = "phone"  # E.164
PHONE_DISPLAY = "phone_display"
# The warning shown before a possible second call: {"phone", "display", "ids" (the open
# consultations of that phone), "consultation_id", "state", "short_id", "doctor", "start"}.
# The phone in it becomes the wizard's phone only on "Continue anyway".
PHONE_WARNING = "phone_warning"
PHONE_ACK = "phone_ack"  # ids of open consultations the coordinator chose to go past
NAME = "patient_name"
BEGIN_AT = "begin_at"  # ISO UTC string; absent/None = now
DURATION = "duration_min"
ATTACHMENT = "attachment"  # {"file_id", "name", "mime", "size"}
PICKED_DATE = "picked_date"  # ISO date while the calendar/time picker is open
EDITING = "editing"  # True: a step returns to the summary
CONFIRMING = "confirming"  # set while a Confirm is being processed (a double press: ignored)
ERROR = "error"  # one-shot text shown above the step's question
ALBUMS = "albums"  # media_group_ids already answered (one answer per album)
RETRY_ERROR = "retry_error"
# This wizard run's id, set when it opens (persisted with the conversation): the start
# record carries it, so a Confirm of a run whose first Confirm went is refused.
DRAFT = "draft"

# The main sequence; sub-states (warning, calendar, clock) come back to their parent.
SEQUENCE: tuple[State, ...] = (
    SG.doctor,
    SG.phone,
    SG.name,
    SG.start_time,
    SG.duration,
    SG.attachment,
    SG.summary,
)
PARENT: dict[str | None, State] = {
    SG.phone_warning.state: SG.phone,
    SG.start_date.state: SG.start_time,
    SG.start_clock.state: SG.start_date,
    SG.edit.state: SG.summary,
    SG.retry.state: SG.summary,
}

PREFILL_KEYS = ("doctor_id", "doctor_name", "phone", "patient_name", "duration_min")


def next_state(current: State, data: dict[str, Any]) -> State:
    """Where a step goes once its value is set: the summary when editing (and complete)."""
    if data.get(EDITING) and is_complete(data):
        return SG.summary
    for state in SEQUENCE:
        if state.state == current.state:
            index = SEQUENCE.index(state)
            return SEQUENCE[min(index + 1, len(SEQUENCE) - 1)]
    parent = PARENT.get(current.state)
    return next_state(parent, data) if parent is not None else SG.summary


REQUIRED = (DOCTOR_ID, PHONE, NAME)


def is_complete(data: dict[str, Any]) -> bool:
    """Everything Confirm needs is set (the summary may be shown)."""
    return all(data.get(key) for key in REQUIRED)


def first_missing(data: dict[str, Any]) -> State | None:
    """The first step whose required value is missing (None: Confirm has what it needs)."""
    for key, state in zip(REQUIRED, (SG.doctor, SG.phone, SG.name), strict=True):
        if not data.get(key):
            return state
    return None


def previous_state(current: State, data: dict[str, Any]) -> State | None:
    """Back: a sub-step returns to its parent; while editing a step returns to the summary
    (only when everything the summary needs is set, else the step before it)."""
    parent = PARENT.get(current.state)
    if parent is not None:
        if current.state in (SG.edit.state, SG.retry.state):
            return SG.summary
        return parent
    if data.get(EDITING) and current.state != SG.summary.state and is_complete(data):
        return SG.summary
    for state in SEQUENCE:
        if state.state == current.state:
            index = SEQUENCE.index(state)
            return SEQUENCE[index - 1] if index > 0 else None
    return None


def begin_at_of(data: dict[str, Any]) -> datetime | None:
    raw = data.get(BEGIN_AT)
    return datetime.fromisoformat(raw) if raw else None


def state_by_name(name: str) -> State | None:
    for state in SG.__states__:
        if state.state == name or (state.state or "").endswith(f":{name}"):
            return state
    return None
