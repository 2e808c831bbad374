"""String enums stored as plain VARCHAR values (no native DB enums: migrations stay simple)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DOCTOR = "doctor"


class ConsultationState(StrEnum):
    """The bot's own view of a consultation, not the partner's status.

    draft → starting → active → final; `unknown` when the start call's answer was lost,
    `failed` when a start definitely did not create a consultation.
    """

    DRAFT = "draft"
    STARTING = "starting"
    ACTIVE = "active"
    FINAL = "final"
    UNKNOWN = "unknown"
    FAILED = "failed"


# States in which a consultation may still change (or may exist at the partner).
OPEN_STATES: frozenset[ConsultationState] = frozenset(
    {ConsultationState.STARTING, ConsultationState.ACTIVE, ConsultationState.UNKNOWN}
)
CLOSED_STATES: frozenset[ConsultationState] = frozenset(
    {ConsultationState.FINAL, ConsultationState.FAILED}
)


class EventSource(StrEnum):
    NOTIFICATION = "notification"
    RECONCILE = "reconcile"
    TERMINATE = "terminate"
    START = "start"


class NotifyMode(StrEnum):
    ESSENTIALS = "essentials"
    ALL = "all"
    MUTED = "muted"


class Audience(StrEnum):
    """Whose right an outbox message needs, re-checked by the sender at send time.

    A row with no audience (team chat, account messages: invites, replies) is not checked.
    """

    CONSULTATION = "consultation"  # carries patient data of its consultation_id
    ADMIN = "admin"  # an operational alert for the admins
    # A morning digest (patient names of several consultations, no consultation_id): built
    # with the breadth of a coordinator or admin (every consultation of the account) ...
    DIGEST_ALL = "digest_all"
    # ... or of a doctor (their own consultations only).
    DIGEST_OWN = "digest_own"


# Rows whose text may carry patient data: sent with protect_content (bot/outbox/send.py).
PATIENT_DATA_AUDIENCES: frozenset[str] = frozenset(
    {Audience.CONSULTATION.value, Audience.DIGEST_ALL.value, Audience.DIGEST_OWN.value}
)


class Origin(StrEnum):
    BOT = "bot"
    EXTERNAL = "external"  # started outside the bot, seen through get-all


# The partner's status ids in their natural order (partner-api.md, numbers 1..7); used to
# sort lists "by status" without the storage layer depending on the API client.
STATUS_ORDER: tuple[str, ...] = (
    "Registered",
    "PreProcessing",
    "Delayed",
    "Processing",
    "PostProcessing",
    "Processed",
    "Unsuccessful",
)
FINAL_STATUSES: frozenset[str] = frozenset({"Processed", "Unsuccessful"})
