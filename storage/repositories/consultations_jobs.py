"""The scheduled jobs' side of consultations: due reminders and the retention purge of
patient data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select, update

from storage.db import utcnow
from storage.enums import CLOSED_STATES, FINAL_STATUSES, Audience, ConsultationState
from storage.models import Consultation, OutboxMessage
from storage.repositories._sql import chunks, rowcount
from storage.repositories.consultations_base import ConsultationRepositoryBase

_PURGE_CHUNK = 500


@dataclass(frozen=True, slots=True)
class SentCopy:
    """A message the bot sent with a purged consultation's patient data: Telegram keeps its
    text until the bot edits it (``bot.jobs.retention`` queues that edit)."""

    consultation_id: int
    partner_id: str | None
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class PurgeCounts:
    consultations: int
    outbox_messages: int
    sent_copies: tuple[SentCopy, ...] = ()


class ConsultationJobs(ConsultationRepositoryBase):
    """Reminders (found once, sent once) and the removal of old patient data."""

    # -- reminders --------------------------------------------------------------------------

    async def due_reminders(self, now: datetime, lead: timedelta) -> list[Consultation]:
        """Active consultations starting within `lead` that were not reminded yet."""
        rows = await self.session.scalars(
            select(Consultation)
            .where(
                Consultation.state == ConsultationState.ACTIVE,
                Consultation.reminder_sent_at.is_(None),
                Consultation.begin_at.is_not(None),
                Consultation.begin_at > now,
                Consultation.begin_at <= now + lead,
                or_(
                    Consultation.last_status.is_(None),
                    Consultation.last_status.not_in(FINAL_STATUSES),
                ),
            )
            .order_by(Consultation.begin_at, Consultation.id)
        )
        return list(rows)

    async def mark_reminded(self, consultation_id: int, now: datetime | None = None) -> bool:
        """True only for the first caller: a reminder goes out once."""
        done: int | None = await self.session.scalar(
            update(Consultation)
            .where(Consultation.id == consultation_id, Consultation.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now or utcnow())
            .returning(Consultation.id)
            .execution_options(synchronize_session=False)
        )
        return done is not None

    # -- retention --------------------------------------------------------------------------

    async def _sent_copies(self, ids: Sequence[int]) -> list[SentCopy]:
        """The card and every delivered patient-data message (notices, reminders, can't-take
        replies: audience "consultation") of ``ids``, one per chat message. Card edits were
        sent as outbox rows too, so a card can appear twice: the set keeps it once."""
        found: dict[tuple[int, int], SentCopy] = {}
        cards = await self.session.execute(
            select(
                Consultation.id,
                Consultation.partner_id,
                Consultation.card_chat_id,
                Consultation.card_message_id,
            ).where(
                Consultation.id.in_(ids),
                Consultation.card_chat_id.is_not(None),
                Consultation.card_message_id.is_not(None),
            )
        )
        sent = await self.session.execute(
            select(
                Consultation.id,
                Consultation.partner_id,
                OutboxMessage.chat_id,
                OutboxMessage.sent_message_id,
            )
            .join(Consultation, Consultation.id == OutboxMessage.consultation_id)
            .where(
                OutboxMessage.consultation_id.in_(ids),
                OutboxMessage.audience == Audience.CONSULTATION.value,
                OutboxMessage.sent_at.is_not(None),
                OutboxMessage.sent_message_id.is_not(None),
            )
            .order_by(OutboxMessage.id)
        )
        rows: list[tuple[int, str | None, int, int]] = [
            *(tuple(r) for r in cards.all()),
            *(tuple(r) for r in sent.all()),
        ]
        for cid, partner_id, chat_id, message_id in rows:
            found.setdefault(
                (chat_id, message_id), SentCopy(cid, partner_id, chat_id, message_id)
            )
        return list(found.values())

    async def _purge(self, ids: Sequence[int], now: datetime) -> PurgeCounts:
        consultations = outbox = 0
        copies: list[SentCopy] = []
        for part in chunks(ids, _PURGE_CHUNK):
            copies += await self._sent_copies(part)
            result = await self.session.execute(
                update(Consultation)
                .where(Consultation.id.in_(part), Consultation.purged_at.is_(None))
                .values(
                    patient_name=None,
                    patient_name_search=None,
                    patient_phone=None,
                    attachment_name=None,
                    # The notification URL stops working: a late or replayed hook of a
                    # purged consultation answers like a guess.
                    token_hash=None,
                    purged_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            consultations += rowcount(result)
            # Messages not sent by now never will be: they would carry purged data.
            await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.consultation_id.in_(part),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.dead == false(),
                )
                .values(dead=True, failed_at=now, last_error="purged by retention")
                .execution_options(synchronize_session=False)
            )
            result = await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.consultation_id.in_(part),
                    or_(OutboxMessage.text.is_not(None), OutboxMessage.reply_markup.is_not(None)),
                )
                .values(text=None, reply_markup=None)
                .execution_options(synchronize_session=False)
            )
            outbox += rowcount(result)
        # Objects already loaded in this session must not keep showing the removed data.
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, Consultation | OutboxMessage):
                self.session.expire(obj)
        return PurgeCounts(consultations, outbox, tuple(copies))

    async def _purge_where(self, now: datetime, *where: ColumnElement[bool]) -> PurgeCounts:
        """Purge the not yet purged consultations matching ``where``."""
        ids = list(
            await self.session.scalars(
                select(Consultation.id).where(Consultation.purged_at.is_(None), *where)
            )
        )
        return await self._purge(ids, now)

    async def purge_final_older_than(self, now: datetime, retention: timedelta) -> PurgeCounts:
        """Remove patient data (name, phone, attachment name, outbox texts) of consultations
        final for longer than `retention`; ids, states and statuses stay."""
        cutoff = now - retention
        counts = await self._purge_where(
            now,
            Consultation.state.in_(CLOSED_STATES),
            func.coalesce(Consultation.last_status_at, Consultation.updated_at) <= cutoff,
        )
        # Rows purged before the token was cleared with the rest: their tokens go too.
        await self.session.execute(
            update(Consultation)
            .where(Consultation.purged_at.is_not(None), Consultation.token_hash.is_not(None))
            .values(token_hash=None)
            .execution_options(synchronize_session=False)
        )
        return counts

    async def purge_abandoned(self, now: datetime, age: timedelta) -> PurgeCounts:
        """The same for drafts and starts that never got a partner id, once `age` old."""
        cutoff = now - age
        return await self._purge_where(
            now,
            Consultation.partner_id.is_(None),
            Consultation.state.in_(
                [
                    ConsultationState.DRAFT,
                    ConsultationState.STARTING,
                    ConsultationState.UNKNOWN,
                    ConsultationState.FAILED,
                ]
            ),
            Consultation.created_at <= cutoff,
        )
