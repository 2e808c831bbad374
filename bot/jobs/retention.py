"""Retention: RETENTION_DAYS after a final status, patient data is removed.

What goes: patient names and phones, attachment names, the notification token's hash (a
late or replayed hook of such a consultation answers like a guess), the texts (and buttons) of every
stored outbox message of those consultations; the same for abandoned drafts and starts
(no partner id) once as old; texts of other outbox messages (admin alerts, invites…) sent
or given up on longer ago; conversation state (FSM rows in the database) untouched for as
long — an abandoned wizard holds the typed name and phone there — and, at every run, the
search texts (a surname or a phone typed to /find) kept in live conversations.
What stays: ids, states, statuses and status history, outbox rows themselves (their dedupe
keys keep "once" true) and ``purged_at``, so the card can say the details were removed.

Telegram keeps its own copy of what the bot sent: the card and every delivered notice,
reminder and can't-take reply of a purged consultation is edited down to "consultation
<short id> — details removed after N days"; a morning digest (patient names of several
consultations, bot/jobs/digest.py) delivered longer ago than N days, to "morning digest —
details removed after N days", before its stored text is cleared with the other messages'.
The edits go through the outbox (in the purge's transaction, one dedupe key per chat
message) so Telegram's limits and retries apply; the ones Telegram refuses (deleted, not
editable any more) are counted by the next run, since the sender meets them after this
run's log line.

Runs once a day (and soon after start-up); each run is one transaction and logs counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.logsafe import describe
from bot.i18n import I18n, language_of
from bot.notifications.messages import short_id
from bot.shutdown import raise_if_stopping
from storage.enums import Audience
from storage.repositories import (
    AppStateRepository,
    ConsultationRepository,
    FsmRepository,
    OutboxRepository,
    SentCopy,
    UserRepository,
    scrub_key,
)

log = logging.getLogger(__name__)

JOB_ID = "retention"
DIGEST_AUDIENCES = (Audience.DIGEST_ALL.value, Audience.DIGEST_OWN.value)
# When the previous run ended: the wipe edits refused since then are the next line's count.
LAST_RUN_KEY = "retention:last_run"
# Conversation fields holding a typed search (a surname or a phone): the last /find text
# (bot/routers/consultations.py FIND_KEY) and the list dialog's query ``q`` in aiogram-dialog's
# context rows (start and dialog data). Their purpose — "Back" from a found card — lasts
# minutes, so every run clears them, however recently the conversation moved: an active
# user's row is never idle long enough for ``purge_idle``.
SEARCH_TEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("lst_find",),
    ("start_data", "q"),
    ("dialog_data", "q"),
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RetentionCounts:
    final_consultations: int = 0
    abandoned_consultations: int = 0
    consultation_messages: int = 0
    other_messages: int = 0
    conversations: int = 0
    search_texts: int = 0
    telegram_edits: int = 0
    not_editable: int = 0


@dataclass
class RetentionJob:
    session_factory: async_sessionmaker[AsyncSession]
    retention: timedelta
    # FSM rows live in Redis when REDIS_URL is set; then there is nothing to purge here.
    purge_conversations: bool = True
    # Texts of the wipe edits; None leaves Telegram's copies alone (database-only tests).
    i18n: I18n | None = None
    outbox_wake: Callable[[], None] = lambda: None
    now: Callable[[], datetime] = _utcnow
    last_counts: RetentionCounts = field(default_factory=RetentionCounts)

    async def run(self) -> RetentionCounts:
        counts = RetentionCounts()
        try:
            async with self.session_factory() as session:
                await self.purge(session, counts)
                await session.commit()
        except Exception as exc:
            raise_if_stopping(log, "retention_cancelled", exc)
            # Types and places only: a database error's text can quote the row's values.
            log.error("retention_failed error=%s", describe(exc))
            return counts
        log.info(
            "retention_done final=%d abandoned=%d consultation_messages=%d "
            "other_messages=%d conversations=%d search_texts=%d telegram_edits=%d "
            "not_editable=%d",
            counts.final_consultations,
            counts.abandoned_consultations,
            counts.consultation_messages,
            counts.other_messages,
            counts.conversations,
            counts.search_texts,
            counts.telegram_edits,
            counts.not_editable,
        )
        self.last_counts = counts
        if counts.telegram_edits:
            self.outbox_wake()
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
        if self.i18n is not None:  # first: the clearing below is what marks them done
            counts.telegram_edits += await self._wipe_digests(session, cutoff, now)
        # Messages of no consultation (alerts, invites, replies): their text goes once they
        # were delivered, or given up on, longer ago than the retention period.
        counts.other_messages = await OutboxRepository(session).purge_unlinked(cutoff)
        if self.purge_conversations:
            fsm = FsmRepository(session)
            counts.conversations = await fsm.purge_idle(cutoff)
            counts.search_texts = await fsm.clear_fields(SEARCH_TEXT_FIELDS)
        # With Redis the conversations are not here: their TTL (RETENTION_DAYS, set in
        # bot/app/fsm.py) bounds how long a search text or a draft outlives its
        # conversation's last activity; Redis keys are not scanned from this job.
        if self.i18n is not None:
            counts.telegram_edits += await self._wipe(
                session, [*final.sent_copies, *abandoned.sent_copies], now
            )
            state = AppStateRepository(session)
            last = await state.get(LAST_RUN_KEY)
            counts.not_editable = await OutboxRepository(session).scrubs_refused_since(
                datetime.fromisoformat(last) if last else None
            )
            await state.set(LAST_RUN_KEY, now.isoformat())

    async def _wipe_digests(self, session: AsyncSession, cutoff: datetime, now: datetime) -> int:
        """Queue the edit of each digest delivered at or before ``cutoff``; how many."""
        assert self.i18n is not None
        outbox = OutboxRepository(session)
        copies = await outbox.sent_copies_before(DIGEST_AUDIENCES, cutoff)
        users = await UserRepository(session).get_many({chat for chat, _ in copies})
        queued = 0
        for chat_id, message_id in copies:
            t = self.i18n.translator(language_of(users.get(chat_id)))
            text = t("retention-digest-removed", days=self.retention.days)
            if await outbox.enqueue(
                chat_id,
                text,
                edit_message_id=message_id,
                dedupe_key=scrub_key(chat_id, message_id),
                now=now,
            ):
                queued += 1
        return queued

    async def _wipe(self, session: AsyncSession, copies: list[SentCopy], now: datetime) -> int:
        """Queue the edit of each sent copy to the short "details removed" line, in its
        reader's language; how many were queued."""
        assert self.i18n is not None
        users = await UserRepository(session).get_many({c.chat_id for c in copies})
        outbox = OutboxRepository(session)
        days = self.retention.days
        queued = 0
        for copy in copies:
            t = self.i18n.translator(language_of(users.get(copy.chat_id)))
            text = t(
                "retention-message-removed",
                short_id=short_id(copy.partner_id, copy.consultation_id),
                days=days,
            )
            # No audience: the line carries no patient data, and a reader who lost the
            # right since is exactly who should lose the old text too.
            if await outbox.enqueue(
                copy.chat_id,
                text,
                edit_message_id=copy.message_id,
                dedupe_key=scrub_key(copy.chat_id, copy.message_id),
                consultation_id=copy.consultation_id,
                now=now,
            ):
                queued += 1
        return queued
