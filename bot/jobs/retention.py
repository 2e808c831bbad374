"""Retention: RETENTION_DAYS after a final status, patient data is removed.

What goes: patient names and phones, attachment names, the notification token's hash (a
late or replayed hook of such a consultation answers like a guess), the texts (and buttons) of every
stored outbox message of those consultations; the same for abandoned drafts and starts
(no partner id) once as old; texts of other outbox messages (admin alerts, invites…) sent
or given up on longer ago; conversation state (FSM rows in the database) untouched for as
long — an abandoned wizard holds the typed name and phone there.
What stays: ids, states, statuses and status history, outbox rows themselves (their dedupe
keys keep "once" true) and ``purged_at``, so the card can say the details were removed.

Runs once a day (and soon after start-up); each run is one transaction and logs counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import ConsultationRepository, FsmRepository, OutboxRepository

log = logging.getLogger(__name__)

JOB_ID = "retention"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RetentionCounts:
    final_consultations: int = 0
    abandoned_consultations: int = 0
    consultation_messages: int = 0
    other_messages: int = 0
    conversations: int = 0


@dataclass
class RetentionJob:
    session_factory: async_sessionmaker[AsyncSession]
    retention: timedelta
    # FSM rows live in Redis when REDIS_URL is set; then there is nothing to purge here.
    purge_conversations: bool = True
    now: Callable[[], datetime] = _utcnow
    last_counts: RetentionCounts = field(default_factory=RetentionCounts)

    async def run(self) -> RetentionCounts:
        counts = RetentionCounts()
        try:
            async with self.session_factory() as session:
                await self.purge(session, counts)
                await session.commit()
        except Exception:
            log.exception("retention_failed")
            return counts
        log.info(
            "retention_done final=%d abandoned=%d consultation_messages=%d "
            "other_messages=%d conversations=%d",
            counts.final_consultations,
            counts.abandoned_consultations,
            counts.consultation_messages,
            counts.other_messages,
            counts.conversations,
        )
        self.last_counts = counts
        return counts

    async def purge(self, session: AsyncSession, counts: RetentionCounts) -> None:
        now = self.now()
        cutoff = now - self.retention
        repo = ConsultationRepository(session)
        final = await repo.purge_final_older_than(now, self.retention)
        abandoned = await repo.purge_abandoned(now, self.retention)
        counts.final_consultations = final.consultations
        counts.abandoned_consultations = abandoned.consultations
        counts.consultation_messages = final.outbox_messages + abandoned.outbox_messages
        # Messages of no consultation (alerts, invites, replies): their text goes once they
        # were delivered, or given up on, longer ago than the retention period.
        counts.other_messages = await OutboxRepository(session).purge_unlinked(cutoff)
        if self.purge_conversations:
            counts.conversations = await FsmRepository(session).purge_idle(cutoff)
