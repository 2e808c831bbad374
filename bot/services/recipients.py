"""Who may hear what, chosen by the one access policy (``bot.services.access``).

Pushes are sent long after the moment that made someone a recipient: a consultation keeps
its ``coordinator_id`` after that coordinator is demoted, and a stored admin row outlives
the id's place in ADMIN_IDS. So every push (status changes, reminders, admin alerts) picks
its recipients here, from the stored rows *now*, asking ``allowed(Actor.of(...), RECEIVE
or RECEIVE_ALERTS, consultation)`` — never from who started the consultation back then.

A recipient must also be reachable: a stored row that is active (``is_active`` False: they
blocked the bot). The one exception is an id in ADMIN_IDS with no row yet: the operator's
word makes it an admin, and an admin who messaged the bot before being listed has no row
until they write again, yet can be written to — so the alerts still go there.

Each person comes with their language and time zone: ``zone_of`` is the one "this user's
zone, else the deployment's default" of the pushes.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import language_of
from bot.services.access import Action, Actor, ConsultationLike, allowed
from storage.enums import NotifyMode
from storage.models import User
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)


def zone_of(name: str | None, default: str) -> ZoneInfo:
    """The zone ``name`` (a user's stored choice), else the deployment's ``default``.

    A stored name this system's tz database no longer knows falls back too: a push must
    not fail over a zone a user picked on another release.
    """
    if name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):
            log.warning("unknown_stored_zone")  # no user data: the name is not logged
    return ZoneInfo(default)


@dataclass(frozen=True, slots=True)
class Person:
    """One recipient as the push needs them: where, in which language, zone and mode."""

    telegram_id: int
    lang: str
    timezone: str | None  # the stored choice; None: the deployment's default
    tz: ZoneInfo  # ``timezone`` resolved (``zone_of``)
    mode: NotifyMode = NotifyMode.ESSENTIALS

    @classmethod
    def of(cls, telegram_id: int, user: User | None, default_timezone: str) -> Person:
        """``user`` None: nothing stored yet, so the deployment's language and zone."""
        timezone = user.timezone if user is not None else None
        return cls(
            telegram_id=telegram_id,
            lang=language_of(user),
            timezone=timezone,
            tz=zone_of(timezone, default_timezone),
            mode=(user.notify_mode if user is not None else None) or NotifyMode.ESSENTIALS,
        )


def may_receive(
    user: User | None, consultation: ConsultationLike, admin_ids: Collection[int]
) -> bool:
    """May this stored user (None: no row) be pushed news of ``consultation`` now?"""
    if user is None or not user.is_active:
        return False
    return allowed(Actor.of(user.telegram_id, user, admin_ids), Action.RECEIVE, consultation)


def receives_alerts(user: User | None, telegram_id: int, admin_ids: Collection[int]) -> bool:
    """May ``telegram_id`` (stored as ``user``, or not at all) be sent the admins' alerts?"""
    if user is not None and not user.is_active:
        return False
    return allowed(Actor.of(telegram_id, user, admin_ids), Action.RECEIVE_ALERTS)


@dataclass(frozen=True, slots=True)
class ConsultationRecipients:
    """Who hears of one consultation: its coordinator (None: nobody in that seat) and the
    doctor's linked accounts, each already checked against the policy."""

    coordinator: Person | None = None
    doctors: Sequence[Person] = field(default_factory=tuple)
    # The stored name of whoever started it, recipient or not: the team chat's line names
    # them (no patient data there).
    coordinator_name: str | None = None


def _in_coordinators_seat(
    stored: User | None, consultation: ConsultationLike, admin_ids: Collection[int]
) -> bool:
    if stored is None or not may_receive(stored, consultation, admin_ids):
        return False
    # Heard in the coordinator's words only while staff: someone demoted to a doctor linked
    # to this consultation still hears it, as a doctor (its linked accounts), with no
    # coordinator's buttons they could no longer use.
    return Actor.of(stored.telegram_id, stored, admin_ids).is_staff


async def coordinator_recipient(
    session: AsyncSession,
    consultation: ConsultationLike,
    *,
    admin_ids: Collection[int],
    default_timezone: str,
) -> Person | None:
    """Whoever started it, if they may still hear of it as its coordinator."""
    if consultation.coordinator_id is None:
        return None
    stored = await UserRepository(session).get(consultation.coordinator_id)
    if stored is None or not _in_coordinators_seat(stored, consultation, admin_ids):
        return None
    return Person.of(stored.telegram_id, stored, default_timezone)


async def consultation_recipients(
    session: AsyncSession,
    consultation: ConsultationLike,
    *,
    admin_ids: Collection[int],
    default_timezone: str,
    doctor_accounts: Mapping[int, Sequence[User]] | None = None,
) -> ConsultationRecipients:
    """`doctor_accounts`: ``UserRepository.by_doctor_ids`` of a batch, if the caller read
    them already (its consultation's doctor included); else they are read here."""
    users = UserRepository(session)
    stored = (
        await users.get(consultation.coordinator_id)
        if consultation.coordinator_id is not None
        else None
    )
    coordinator = (
        Person.of(stored.telegram_id, stored, default_timezone)
        if stored is not None and _in_coordinators_seat(stored, consultation, admin_ids)
        else None
    )
    doctors: list[Person] = []
    if consultation.doctor_id is not None:
        accounts = (
            doctor_accounts[consultation.doctor_id]
            if doctor_accounts is not None and consultation.doctor_id in doctor_accounts
            else await users.by_doctor_id(consultation.doctor_id)
        )
        doctors = [
            Person.of(u.telegram_id, u, default_timezone)
            for u in accounts
            if may_receive(u, consultation, admin_ids)
        ]
    return ConsultationRecipients(
        coordinator=coordinator,
        doctors=tuple(doctors),
        coordinator_name=stored.display_name if stored is not None else None,
    )


async def alert_recipients(
    session: AsyncSession, *, admin_ids: Collection[int], default_timezone: str
) -> list[Person]:
    """The admins who get operational alerts: the ids in ADMIN_IDS, in id order, but for
    those who blocked the bot. A stored role=admin row whose id left ADMIN_IDS is nobody."""
    stored = await UserRepository(session).get_many(admin_ids)
    return [
        Person.of(i, stored.get(i), default_timezone)
        for i in sorted(admin_ids)
        if receives_alerts(stored.get(i), i, admin_ids)
    ]
