"""The one access policy: who may do what, to which consultation.

Every service entry asks ``authorize(actor, action, consultation)``; recipients of pushes
and the outbox sender (at send time) ask the same question with ``Action.RECEIVE``.
The actor is read from the database at the moment of the action (``load_actor``), never
from a screen, the dialog's data or the callback data: any button can be pressed late, by
someone whose role changed, or forged. An id taken out of ADMIN_IDS is no admin (and, with
no other role stored, nobody).

The matrix (README, "Who may do what"):

============== ===== ============ ============================ ==========================
action          admin coordinator  doctor                       stranger / revoked /
                                                                removed admin
============== ===== ============ ============================ ==========================
start           yes   yes          no                           no
list, find      yes   yes          yes (own consultations only) no
view, refresh   yes   yes          linked to its doctor         no
terminate,      yes   yes          no                           no
reschedule,
repeat
read conclusion yes   who started  linked to its doctor         no
cant take       no    no           linked to its doctor         no
receive         yes   yes          linked to its doctor         no
invite, manage  yes   no           no                           no
users/doctors
report          yes   yes          own consultations only       no
report with     yes   yes          no                           no
patient details
============== ===== ============ ============================ ==========================

Who is *chosen* to hear a change is decided by ``bot.services.recipients``; ``RECEIVE`` is
the right it checks, and the outbox re-checks at send time. Alerts (``RECEIVE_ALERTS``)
go to admins only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Role
from storage.repositories.users import UserRepository


class Action(StrEnum):
    START = "start"
    LIST = "list"
    FIND = "find"
    VIEW = "view"
    REFRESH = "refresh"
    TERMINATE = "terminate"
    RESCHEDULE = "reschedule"
    REPEAT = "repeat"
    READ_CONCLUSION = "read_conclusion"
    CANT_TAKE = "cant_take"
    RECEIVE = "receive"  # a push about a consultation (status, reminder, card edit)
    RECEIVE_ALERTS = "receive_alerts"  # the admins' operational alerts
    INVITE = "invite"
    MANAGE_USERS = "manage_users"
    MANAGE_DOCTORS = "manage_doctors"
    REPORT = "report"  # /report: totals, chart, CSV (a doctor: their own consultations)
    REPORT_PATIENT_DETAILS = "report_patient_details"  # names and phones in the CSV


class Denial(StrEnum):
    NO_ACCESS = "no_access"  # no account (stranger, revoked, removed admin)
    ROLE = "role"  # the role does not allow the action at all
    NOT_YOURS = "not_yours"  # the role allows it, but not on this consultation (or none)


class ConsultationLike(Protocol):
    @property
    def coordinator_id(self) -> int | None: ...
    @property
    def doctor_id(self) -> int | None: ...


class UserLike(Protocol):
    @property
    def telegram_id(self) -> int: ...
    @property
    def role(self) -> Role: ...
    @property
    def doctor_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Actor:
    telegram_id: int
    role: Role | None  # None: no access (stranger, revoked, removed from ADMIN_IDS)
    doctor_id: int | None = None

    @classmethod
    def of(cls, telegram_id: int, user: UserLike | None, admin_ids: Collection[int]) -> Actor:
        """The actor as ``user`` (the stored row, or None) and ADMIN_IDS make them now."""
        if telegram_id in admin_ids:
            return cls(telegram_id, Role.ADMIN, user.doctor_id if user is not None else None)
        if user is None:
            return cls(telegram_id, None)
        role = Role(user.role)
        if role is Role.ADMIN:  # stored as admin, no longer in ADMIN_IDS: no rights at all
            return cls(telegram_id, None)
        return cls(telegram_id, role, user.doctor_id)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.COORDINATOR)

    def is_linked_doctor(self, consultation: ConsultationLike) -> bool:
        return (
            self.role is Role.DOCTOR
            and self.doctor_id is not None
            and self.doctor_id == consultation.doctor_id
        )

    def started(self, consultation: ConsultationLike) -> bool:
        return consultation.coordinator_id == self.telegram_id


class AccessDenied(Exception):
    """The actor may not do ``action``; ``reason`` says which sentence to show."""

    def __init__(self, actor: Actor, action: Action, reason: Denial) -> None:
        super().__init__(f"{action.value} denied ({reason.value}) to user_id={actor.telegram_id}")
        self.actor = actor
        self.action = action
        self.reason = reason


_STAFF = frozenset({Role.ADMIN, Role.COORDINATOR})
_MEMBERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.DOCTOR})
_ADMIN = frozenset({Role.ADMIN})

# Which roles an action is open to at all; per-consultation rules come after.
ROLES: dict[Action, frozenset[Role]] = {
    Action.START: _STAFF,
    Action.LIST: _MEMBERS,
    Action.FIND: _MEMBERS,
    Action.VIEW: _MEMBERS,
    Action.REFRESH: _MEMBERS,
    Action.TERMINATE: _STAFF,
    Action.RESCHEDULE: _STAFF,
    Action.REPEAT: _STAFF,
    Action.READ_CONCLUSION: _MEMBERS,
    Action.CANT_TAKE: frozenset({Role.DOCTOR}),
    Action.RECEIVE: _MEMBERS,
    Action.RECEIVE_ALERTS: _ADMIN,
    Action.INVITE: _ADMIN,
    Action.MANAGE_USERS: _ADMIN,
    Action.MANAGE_DOCTORS: _ADMIN,
    Action.REPORT: _MEMBERS,
    Action.REPORT_PATIENT_DETAILS: _STAFF,
}

# Actions about one consultation: refused (NOT_YOURS) when there is none.
CONSULTATION_ACTIONS = frozenset(
    {
        Action.VIEW,
        Action.REFRESH,
        Action.TERMINATE,
        Action.RESCHEDULE,
        Action.REPEAT,
        Action.READ_CONCLUSION,
        Action.CANT_TAKE,
        Action.RECEIVE,
    }
)


def _on_consultation(actor: Actor, action: Action, consultation: ConsultationLike) -> bool:
    if action is Action.READ_CONCLUSION:
        # Medical data: the admins, the coordinator who started it, its doctor's accounts.
        return (
            actor.role is Role.ADMIN
            or (actor.role is Role.COORDINATOR and actor.started(consultation))
            or actor.is_linked_doctor(consultation)
        )
    if actor.is_staff:  # coordinators work on every consultation of the partner account
        return True
    return actor.is_linked_doctor(consultation)


def denial(
    actor: Actor, action: Action, consultation: ConsultationLike | None = None
) -> Denial | None:
    """None when allowed; otherwise why not. Pure: the caller loaded ``actor`` just now."""
    if actor.role is None:
        return Denial.NO_ACCESS
    if actor.role not in ROLES[action]:
        return Denial.ROLE
    if action in CONSULTATION_ACTIONS and (
        consultation is None or not _on_consultation(actor, action, consultation)
    ):
        return Denial.NOT_YOURS
    return None


def allowed(actor: Actor, action: Action, consultation: ConsultationLike | None = None) -> bool:
    return denial(actor, action, consultation) is None


def authorize(actor: Actor, action: Action, consultation: ConsultationLike | None = None) -> None:
    """Raise ``AccessDenied`` unless ``actor`` may do ``action`` (to ``consultation``)."""
    reason = denial(actor, action, consultation)
    if reason is not None:
        raise AccessDenied(actor, action, reason)


async def load_actor(session: AsyncSession, telegram_id: int, admin_ids: Collection[int]) -> Actor:
    """The actor as the database shows them now."""
    return Actor.of(telegram_id, await UserRepository(session).get(telegram_id), admin_ids)
