"""When each user's morning digest comes: their choice in /settings, or their role's default.

Defaults: 09:00 for coordinators and admins, off for doctors. The issue asks for the
coordinators' morning picture; admins are the clinic's other readers of it ("coordinators
and clinic admins ... ask what is scheduled today") and see every consultation anyway, so
they get it too — one press turns it off. Doctors already hear of each booking and get a
reminder before each start, so a daily message would repeat what they know: they opt in.
An unchosen time (``users.digest_time`` NULL) follows the role *now*: a doctor made a
coordinator starts getting it, and the reverse stops it.

Times are wall-clock times in the user's zone. A time chosen after it has gone by today
starts tomorrow (the day is marked settled), so the answer "next: today / tomorrow" the
user sees is what happens. The job (bot/jobs/digest.py) sends a digest up to
``LATE_LIMIT`` after its time — a restart or an outage at 09:00 still delivers the morning's
message — and not later: a "morning" message in the afternoon lists callbacks already past
and would arrive while the user has long been working from /list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.access import Action, Actor, authorize
from storage.enums import Role
from storage.repositories.users import DIGEST_OFF, UserRepository

log = logging.getLogger(__name__)

DEFAULT_TIME = time(9, 0)
LATE_LIMIT = timedelta(hours=3)

_STORED = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class DigestChoice:
    at: time | None  # None: no digest
    is_default: bool  # nothing chosen: the role's default


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    choice: DigestChoice
    next_day: date | None  # the local date of the next digest; None when off


def default_time(role: Role | None) -> time | None:
    return DEFAULT_TIME if role in (Role.ADMIN, Role.COORDINATOR) else None


def stored_value(at: time | None) -> str:
    """What ``users.digest_time`` holds for a choice: "HH:MM" or "off"."""
    return DIGEST_OFF if at is None else f"{at.hour:02d}:{at.minute:02d}"


def digest_choice(stored: str | None, role: Role | None) -> DigestChoice:
    """The user's choice as stored, or the default of ``role`` (the actor's role now)."""
    if role is None:  # no access: nothing to digest
        return DigestChoice(None, stored is None)
    if stored == DIGEST_OFF:
        return DigestChoice(None, False)
    if stored is not None:
        match = _STORED.match(stored)
        if match:
            return DigestChoice(time(int(match[1]), int(match[2])), False)
        log.warning("digest_time_unreadable")  # written by no code of ours: the default
    return DigestChoice(default_time(role), True)


def local_day(now: datetime, tz: tzinfo) -> date:
    return now.astimezone(tz).date()


def day_start(day: date, tz: tzinfo) -> datetime:
    """The UTC moment ``day`` begins in ``tz``."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def due_at(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC moment of the digest of ``day`` at local ``at`` (a time skipped by a DST
    change comes at the same offset as the hour before it, i.e. an hour later)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def is_due(at: time, last_day: date | None, now: datetime, tz: tzinfo) -> date | None:
    """The local date whose digest is due now (time passed, at most ``LATE_LIMIT`` ago, not
    settled yet), or None."""
    today = local_day(now, tz)
    if last_day is not None and last_day >= today:
        return None
    due = due_at(today, at, tz)
    if now < due or now - due > LATE_LIMIT:
        return None
    return today


def next_day(choice: DigestChoice, last_day: date | None, now: datetime, tz: tzinfo) -> date | None:
    if choice.at is None:
        return None
    today = local_day(now, tz)
    settled = last_day is not None and last_day >= today
    if not settled and now < due_at(today, choice.at, tz) + LATE_LIMIT:
        return today
    return today + timedelta(days=1)


async def digest_schedule(
    session: AsyncSession, actor: Actor, *, now: datetime, tz: tzinfo
) -> DigestSchedule:
    """The actor's digest as /settings shows it."""
    authorize(actor, Action.LIST)
    user = await UserRepository(session).get(actor.telegram_id)
    stored, last = (user.digest_time, user.digest_last_date) if user else (None, None)
    choice = digest_choice(stored, actor.role)
    return DigestSchedule(choice, next_day(choice, last, now, tz))


async def choose_digest_time(
    session: AsyncSession, actor: Actor, at: time | None, *, now: datetime, tz: tzinfo
) -> DigestSchedule:
    """Store the actor's choice (``at`` None: off); a time already gone by today starts
    tomorrow. Only members who may list consultations have a digest."""
    authorize(actor, Action.LIST)
    today = local_day(now, tz)
    settled_on = today if at is not None and now >= due_at(today, at, tz) else None
    users = UserRepository(session)
    user = await users.get(actor.telegram_id)
    last = user.digest_last_date if user is not None else None
    await users.set_digest_time(actor.telegram_id, stored_value(at), settled_on=settled_on)
    if settled_on is not None and (last is None or last < settled_on):
        last = settled_on
    if user is not None:  # this session's copy of the row, as now stored
        user.digest_time, user.digest_last_date = stored_value(at), last
    log.info("digest_time_set user_id=%s at=%s", actor.telegram_id, stored_value(at))
    choice = DigestChoice(at, False)
    return DigestSchedule(choice, next_day(choice, last, now, tz))
