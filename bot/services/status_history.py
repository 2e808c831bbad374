"""Which status events of a consultation are new: a pure diff of the partner's history.

The partner API returns the whole `statuses` history of a consultation. Comparing that
history (not just the current status) with the events already stored means a status that
was passed between two looks (Registered → Processing → PostProcessing seen only as
PostProcessing) is still recorded, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api_client.models import RequestStatus

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class KnownEvent:
    """A status event the database already holds."""

    status: RequestStatus
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A status event seen in the partner's history and not stored yet."""

    status: RequestStatus
    history_id: str | None
    occurred_at: datetime | None
    actor: str | None = None


def history_of(callback: Any) -> list[NewEvent]:
    """The consultation's history as events, oldest first.

    An answer without a history (some deployments leave `statuses` empty) still has a
    current `status`: it counts as one event, so a change is never invisible.
    """
    events: list[NewEvent] = []
    for entry in getattr(callback, "statuses", None) or []:
        ref = getattr(entry, "status", None)
        status = _status(ref)
        if status is None:
            continue
        actor = getattr(entry, "actor", None)
        actor_id = getattr(actor, "id", None)
        events.append(
            NewEvent(
                status=status,
                history_id=_str_or_none(getattr(entry, "id", None)),
                occurred_at=getattr(entry, "created_at_utc", None),
                actor=str(getattr(actor_id, "value", actor_id)) if actor_id else None,
            )
        )
    if not events:
        current = _status(getattr(callback, "status", None))
        if current is not None:
            events.append(NewEvent(status=current, history_id=None, occurred_at=None))
    # Stable sort: entries without a time keep their place relative to each other.
    events.sort(key=lambda e: e.occurred_at or _EPOCH)
    return events


def new_events(history: Sequence[NewEvent], known: Iterable[KnownEvent]) -> list[NewEvent]:
    """Events of `history` that `known` does not account for, in history order.

    Two passes: first a stored event with the same status and time matches a history
    entry; then any remaining stored event of the same status does (the start event the
    wizard stores with its own clock, or one seen through a history-less answer). Matching
    consumes the stored event, so a status that really happens twice (Delayed again) is
    new the second time.
    """
    remaining = list(known)
    unmatched: list[int] = []
    for index, entry in enumerate(history):
        exact = next(
            (
                k
                for k in remaining
                if k.status is entry.status
                and entry.occurred_at is not None
                and k.occurred_at is not None
                and _same_instant(k.occurred_at, entry.occurred_at)
            ),
            None,
        )
        if exact is not None:
            remaining.remove(exact)
        else:
            unmatched.append(index)
    fresh: list[NewEvent] = []
    for index in unmatched:
        entry = history[index]
        loose = next((k for k in remaining if k.status is entry.status), None)
        if loose is not None:
            remaining.remove(loose)
        else:
            fresh.append(entry)
    return fresh


def _same_instant(a: datetime, b: datetime) -> bool:
    # A database may keep only milliseconds (or whole seconds); the partner sends seconds.
    return abs((a - b).total_seconds()) < 1.0


def _status(ref: Any) -> RequestStatus | None:
    raw = getattr(ref, "id", ref)
    if raw is None:
        return None
    status = raw if isinstance(raw, RequestStatus) else RequestStatus(str(raw))
    # A status this code does not know cannot be told to anyone meaningfully; it is left
    # for a later look rather than stored as "Unknown".
    return None if status is RequestStatus.UNKNOWN else status


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def final_status(events: Iterable[NewEvent | KnownEvent]) -> RequestStatus | None:
    """The final status among `events`, if any (Processed or Unsuccessful)."""
    for event in events:
        if event.status.is_final:
            return event.status
    return None


def diff_history(callback: Any, stored: Sequence[Any]) -> tuple[list[NewEvent], list[NewEvent]]:
    """(the answer's history, the events of it not stored yet)."""
    history = history_of(callback)
    known = [KnownEvent(RequestStatus(e.status), e.occurred_at) for e in stored]
    return history, new_events(history, known)


def occurrences(history: Sequence[NewEvent]) -> dict[int, int]:
    """id(event) → how many times its status has appeared up to it (1 for the first)."""
    counts: dict[RequestStatus, int] = {}
    out: dict[int, int] = {}
    for event in history:
        counts[event.status] = counts.get(event.status, 0) + 1
        out[id(event)] = counts[event.status]
    return out


def previous_statuses(
    history: Sequence[NewEvent], stored: Sequence[Any]
) -> dict[int, RequestStatus]:
    """id(event) → the status just before it: the previous history entry, or for the first
    one (a history-less answer) the latest status already stored."""
    out: dict[int, RequestStatus] = {}
    last: RequestStatus | None = None
    if stored:
        latest = max(stored, key=lambda e: e.occurred_at)
        last = RequestStatus(latest.status)
    for event in history:
        if last is not None:
            out[id(event)] = last
        last = event.status
    return out
