"""The morning digest's content for one reader: today's scheduled callbacks, yesterday's
outcomes, and what needs a hand — as the access policy lets this actor see them.

Breadth: what the actor may list (``Action.LIST``): coordinators and admins every
consultation of the account, a doctor only their own (the consultations of their partner
doctor id; none while their account is linked to no doctor). Each listed row is checked
again with ``Action.RECEIVE``, the right every push needs.

"Needs a hand" is for those who can give it: starts stuck in ``unknown`` and failures
nobody repeated are only listed to readers who may repeat a consultation
(``Action.REPEAT``: coordinators and admins). A doctor can do neither; their digest holds
their day and their yesterday.

Days are the reader's local days (their zone). Yesterday's outcomes are consultations
whose final status came yesterday; a failure is listed as not repeated from the start of
yesterday on (the digest is daily, so each failure shows on the morning after it, and on
its own morning if it came before the digest).

Everything comes from the local copy, which the status web-hooks and reconcile keep
current; the digest asks the partner API nothing (a digest must not wait for, or fail
with, the partner's service).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.access import ROLES, Action, Actor, allowed, authorize
from bot.services.digest_settings import day_start, local_day
from storage.repositories.consultations import ConsultationRepository, Listed, OutcomeCounts

# How many rows each list shows (the rest is counted): the message stays well within
# Telegram's 4,096 characters with the longest names (bot/rendering/digest.py cuts them).
MAX_SCHEDULED = 15
MAX_NEEDS_HAND = 5


@dataclass(frozen=True, slots=True)
class Digest:
    day: date  # the reader's local date
    own: bool  # a doctor's own consultations (else every consultation of the account)
    scheduled: Listed = field(default_factory=Listed)
    outcomes: OutcomeCounts = field(default_factory=OutcomeCounts)
    # None: not listed to this reader (they cannot give that hand).
    stuck: Listed | None = None
    unrepeated: Listed | None = None


def _allowed_rows(actor: Actor, action: Action, listed: Listed) -> Listed:
    """The rows the policy lets ``actor`` have; the total shrinks by those dropped."""
    rows = tuple(c for c in listed.rows if allowed(actor, action, c))
    return Listed(rows, listed.total - (len(listed.rows) - len(rows)))


# Digests already built in one pass of the job, by what their content depends on: every
# coordinator in one zone reads the same lists, so the queries run once per breadth and day.
DigestMemo = dict[tuple[object, ...], "Digest"]


async def build_digest(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    tz: tzinfo,
    memo: DigestMemo | None = None,
) -> Digest:
    """The digest of ``actor`` (loaded from the database just now) for their local today.

    ``memo``: digests built earlier in the same pass. The key holds all the policy's row
    checks below depend on for these actions (staff: every row; a doctor: their doctor id's
    rows), so a memoised digest is the one this actor would get."""
    authorize(actor, Action.LIST)
    today = local_day(now, tz)
    own = not actor.is_staff
    if own and actor.doctor_id is None:
        return Digest(day=today, own=True)  # a doctor's account linked to no doctor yet
    doctor_id = actor.doctor_id if own else None
    start, end = day_start(today, tz), day_start(today + timedelta(days=1), tz)
    key = (own, doctor_id, today, start, end, actor.role in ROLES[Action.REPEAT])
    if memo is not None and key in memo:
        return memo[key]
    yesterday = day_start(today - timedelta(days=1), tz)
    digest = await _build(session, actor, today, doctor_id, (yesterday, start, end))
    if memo is not None:
        memo[key] = digest
    return digest


async def _build(
    session: AsyncSession,
    actor: Actor,
    today: date,
    doctor_id: int | None,
    days: tuple[datetime, datetime, datetime],
) -> Digest:
    """The queries: ``days`` are the starts of yesterday, today and tomorrow (UTC)."""
    yesterday, start, end = days
    repo = ConsultationRepository(session)
    scheduled = await repo.scheduled_between(start, end, doctor_id=doctor_id, limit=MAX_SCHEDULED)
    digest = Digest(
        day=today,
        own=not actor.is_staff,
        scheduled=_allowed_rows(actor, Action.RECEIVE, scheduled),
        outcomes=await repo.outcomes_between(yesterday, start, doctor_id=doctor_id),
    )
    if actor.role not in ROLES[Action.REPEAT]:  # each row is asked again below
        return digest
    stuck = await repo.stuck_unknown(doctor_id=doctor_id, limit=MAX_NEEDS_HAND)
    unrepeated = await repo.unsuccessful_not_repeated(
        yesterday, doctor_id=doctor_id, limit=MAX_NEEDS_HAND
    )
    return replace(
        digest,
        stuck=_allowed_rows(actor, Action.REPEAT, stuck),
        unrepeated=_allowed_rows(actor, Action.REPEAT, unrepeated),
    )
