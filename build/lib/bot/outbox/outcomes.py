"""What a Telegram error means for an outbox row: a pure function, no network, no database.

=========================================== ==========================================
error                                       outcome
=========================================== ==========================================
429 ``retry_after``                         RETRY_AFTER: wait it out, retry the row
``migrate_to_chat_id``                      MIGRATED: the chat's rows follow the new id
400 "message is not modified"               SENT (the edit's text was already there)
400 "message to edit not found" / "message  RESEND: the card is gone, send it anew
can't be edited" (an edit)
400 "chat not found", 404                   CHAT_DEAD: every pending row of the chat dead
other 400                                   DEAD: this row only
403                                         FORBIDDEN: chat dead, the user inactive
401 (the token itself refused)              UNAUTHORIZED: keep the rows, pause, retry late
network errors, 5xx, anything else          RETRY: exponential backoff
=========================================== ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)

UNAUTHORIZED_PAUSE = 60.0


class Kind(StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"
    MIGRATED = "migrated"
    RESEND = "resend"
    CHAT_DEAD = "chat_dead"
    FORBIDDEN = "forbidden"
    DEAD = "dead"
    UNAUTHORIZED = "unauthorized"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    error: str = ""  # the row's last_error (its part before ":" is what the logs show)
    seconds: float = 0.0  # RETRY_AFTER, UNAUTHORIZED: how long to wait
    new_chat_id: int | None = None  # MIGRATED


def outcome_of(exc: TelegramAPIError, *, editing: bool) -> Outcome:
    """The outcome of a send that raised ``exc``; ``editing``: it was an edit of a message."""
    if isinstance(exc, TelegramRetryAfter):
        return Outcome(Kind.RETRY_AFTER, "retry_after", seconds=exc.retry_after)
    if isinstance(exc, TelegramMigrateToChat):
        return Outcome(Kind.MIGRATED, "migrated", new_chat_id=exc.migrate_to_chat_id)
    if isinstance(exc, TelegramBadRequest):
        text = exc.message.lower()
        if "message is not modified" in text:
            return Outcome(Kind.SENT)
        if editing and ("message to edit not found" in text or "message can't be edited" in text):
            return Outcome(Kind.RESEND)
        if "chat not found" in text:
            return Outcome(Kind.CHAT_DEAD, "chat not found")
        return Outcome(Kind.DEAD, f"bad request: {exc.message}")
    if isinstance(exc, TelegramForbiddenError):
        return Outcome(Kind.FORBIDDEN, f"forbidden: {exc.message}")
    if isinstance(exc, TelegramNotFound):
        return Outcome(Kind.CHAT_DEAD, "not found")
    if isinstance(exc, TelegramUnauthorizedError):
        return Outcome(Kind.UNAUTHORIZED, "unauthorized", seconds=UNAUTHORIZED_PAUSE)
    # Network errors, 5xx, conflicts, anything unforeseen: worth another try later.
    return Outcome(Kind.RETRY, type(exc).__name__)
