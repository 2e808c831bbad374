"""Reminders: REMINDER_LEAD_MINUTES before a scheduled consultation's start, once.

Who: the coordinator who started it and the doctor's linked (active) accounts — in every
notify mode, muted included ("mute everything but reminders and failures") — as the access
policy sees them at the run (bot/services/recipients.py): a coordinator demoted since, or
taken out of ADMIN_IDS, is no longer told about the patient.

Once, even across restarts and replicas: in one transaction the job sets the durable mark
(``reminder_sent_at``, only the first caller wins) and queues the messages with per-recipient
dedupe keys ``remind:<consultation>:to:<chat>``; a crash before the commit leaves neither.

Not for consultations terminated or final before then (they are not ``active``, or their
last status is final), nor rescheduled ones: the window is computed from the current
``begin_at`` at each run, so a start moved later is reminded before the new time, and a
start already past is never reminded late. Consultations started elsewhere have nobody
subscribed (DESIGN.md) and are skipped.

Nor when a reminder would say nothing new: a consultation booked less than lead + 1 minute
before its start (the quick button "in 15 min" books 15–16 minutes ahead, so "booked" and
"in 14 min" would arrive back to back — the booked message already carries the time), or one
whose call is already under way (a status past Delayed). Both are marked reminded, so the
job does not look at them again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.logsafe import describe
from api_client.models import RequestStatus
from bot.i18n import I18n, Translator
from bot.notifications.messages import short_id
from bot.rendering.time import format_local
from bot.services.recipients import Person, consultation_recipients
from bot.shutdown import raise_if_stopping
from storage.enums import FINAL_STATUSES, Audience, ConsultationState, Origin
from storage.models import Consultation
from storage.repositories import ConsultationRepository, OutboxRepository

log = logging.getLogger(__name__)

JOB_ID = "reminders"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ReminderCounts:
    due: int = 0
    reminded: int = 0
    queued: int = 0
    skipped: int = 0


def reminder_text(
    consultation: Consultation,
    t: Translator,
    tz: ZoneInfo,
    *,
    for_doctor: bool,
    now: datetime,
) -> str:
    assert consultation.begin_at is not None
    minutes = max(1, math.ceil((consultation.begin_at - now).total_seconds() / 60))
    args = {
        "minutes": minutes,
        "when": format_local(consultation.begin_at, tz, t.lang, now=now),
        "short_id": short_id(consultation.partner_id, consultation.id),
        "patient": escape(consultation.patient_name or "—"),
        "doctor": escape(consultation.doctor_name or "—"),
    }
    if for_doctor:
        duration = (
            t("ops-duration", minutes=consultation.duration_min)
            if consultation.duration_min
            else t("ops-duration-unbounded")
        )
        return t("ops-reminder-doctor", duration=duration, **args)
    return t("ops-reminder-coordinator", **args)


@dataclass
class ReminderJob:
    session_factory: async_sessionmaker[AsyncSession]
    i18n: I18n
    lead: timedelta
    default_timezone: str
    admin_ids: Collection[int]  # ADMIN_IDS: the access policy's say on who is an admin now
    outbox_wake: Callable[[], None] = lambda: None
    now: Callable[[], datetime] = _utcnow
    last_counts: ReminderCounts = field(default_factory=ReminderCounts)

    async def run(self) -> ReminderCounts:
        counts = ReminderCounts()
        try:
            await self._run(counts)
        except Exception as exc:
            raise_if_stopping(log, "reminders_cancelled", exc)
            log.error("reminders_failed counts=%s error=%s", counts, describe(exc))
        else:
            if counts.due:
                log.info("reminders_done counts=%s", counts)
        self.last_counts = counts
        if counts.queued:
            self.outbox_wake()
        return counts

    async def _run(self, counts: ReminderCounts) -> None:
        now = self.now()
        async with self.session_factory() as session:
            due = await ConsultationRepository(session).due_reminders(now, self.lead)
        counts.due = len(due)
        for row in due:
            if row.origin is Origin.EXTERNAL:
                continue
            # One transaction per consultation: one bad row does not hold back the others.
            async with self.session_factory() as session:
                queued = await self._remind(session, row.id, now)
                await session.commit()
            if queued is None:
                continue
            if queued < 0:
                counts.skipped += 1
            else:
                counts.reminded += 1
                counts.queued += queued

    async def _remind(
        self, session: AsyncSession, consultation_id: int, now: datetime
    ) -> int | None:
        """Messages queued; None when not due (any more); -1 when skipped for good."""
        repo = ConsultationRepository(session)
        consultation = await repo.get(consultation_id)
        # Read again in this transaction: terminated or moved since the list was taken?
        if consultation is None or not self._still_due(consultation, now):
            return None
        if not await repo.mark_reminded(consultation_id, now):
            return None  # another run (or replica) got there first
        skip = self._pointless(consultation)
        if skip is not None:
            log.info("reminder_skipped consultation=%s reason=%s", consultation.id, skip)
            return -1
        people = await consultation_recipients(
            session,
            consultation,
            admin_ids=self.admin_ids,
            default_timezone=self.default_timezone,
        )
        recipients: list[tuple[Person, bool]] = []
        if people.coordinator is not None:
            recipients.append((people.coordinator, False))
        recipients += [(p, True) for p in people.doctors]
        outbox = OutboxRepository(session)
        queued = 0
        seen: set[int] = set()
        for person, for_doctor in recipients:
            if person.telegram_id in seen:  # both its coordinator and a linked doctor
                continue
            seen.add(person.telegram_id)
            t = self.i18n.translator(person.lang)
            text = reminder_text(consultation, t, person.tz, for_doctor=for_doctor, now=now)
            if await outbox.enqueue(
                person.telegram_id,
                text,
                dedupe_key=f"remind:{consultation.id}:to:{person.telegram_id}",
                consultation_id=consultation.id,
                audience=Audience.CONSULTATION,
                now=now,
            ):
                queued += 1
        log.info("reminder_queued consultation=%s recipients=%d", consultation.id, queued)
        return queued

    def _still_due(self, c: Consultation, now: datetime) -> bool:
        return (
            c.state is ConsultationState.ACTIVE
            and c.reminder_sent_at is None
            and c.begin_at is not None
            and now < c.begin_at <= now + self.lead
            and c.last_status not in FINAL_STATUSES
        )

    def _pointless(self, c: Consultation) -> str | None:
        """Why a reminder would tell nothing new, or None when it is worth sending."""
        assert c.begin_at is not None
        booked = c.start_attempted_at or c.created_at
        if c.begin_at - booked < self.lead + timedelta(minutes=1):
            return "booked_within_lead"
        if c.last_status and RequestStatus(c.last_status).number > RequestStatus.DELAYED.number:
            return "under_way"
        return None
