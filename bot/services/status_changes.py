"""Applying a status change: the one path web-hooks, reconcile and a terminate share.

history diff (services/status_history.py) → record events (the database's unique key makes a
concurrent or repeated look record nothing) → update the consultation (and the figures
/report counts: calls, talk, price) → choose who may
hear it (services/recipients.py, by the access policy as the database shows people now) →
decide who hears what (services/audience.py) → render → outbox, with a dedupe key per
message and recipient.

Only events that were really recorded now lead to messages, so a duplicate GET, a forged
GET on a valid token, or a change already seen through reconcile sends nothing.

No aiogram here: the texts and keyboards are rendered by callables the notifications
component injects (bot/notifications/runtime.py), which return plain text and the inline
keyboard already as Bot API JSON — what the outbox stores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from api_client.models import Callback, RequestStatus
from bot.i18n import I18n, Translator
from bot.reports.figures import figures_of
from bot.services.audience import (
    Notice,
    NoticeKind,
    Recipient,
    RecipientRole,
    StatusChange,
    decide,
)
from bot.services.recipients import Person, consultation_recipients, zone_of
from bot.services.status_history import NewEvent, diff_history, occurrences, previous_statuses
from storage.enums import Audience, ConsultationState, EventSource, Origin
from storage.models import Consultation, StatusEvent, User
from storage.repositories.consultations import ConsultationRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.status_events import StatusEventRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as the outbox stores it."""

    text: str
    reply_markup: str | None = None  # the inline keyboard as Bot API JSON; None: none


class NoticeRenderer(Protocol):
    """Renders a personal or team notice (notifications/messages.py ``render``)."""

    def __call__(
        self,
        notice: Notice,
        consultation: Consultation,
        coordinator_name: str | None,
        t: Translator,
        tz: ZoneInfo,
        now: datetime,
    ) -> Outgoing: ...


class CardRenderer(Protocol):
    """Renders the consultation card (owned by the wizard's rendering) for an in-place edit."""

    def __call__(
        self, consultation: Consultation, callback: Callback, t: Translator, tz: ZoneInfo
    ) -> Outgoing: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Batch:
    """What `apply_many` reads once for its batch: each answer's `diff_history`, and the doctor
    accounts of those with something to tell (``UserRepository.by_doctor_ids``)."""

    diffs: Mapping[int, tuple[list[NewEvent], list[NewEvent]]]
    doctor_accounts: Mapping[int, Sequence[User]]


@dataclass
class ApplyResult:
    recorded: int = 0
    queued: int = 0
    final: bool = False


@dataclass
class StatusProcessor:
    """Turns one fetched consultation into stored events and queued messages (no commit)."""

    i18n: I18n
    render_notice: NoticeRenderer
    # ADMIN_IDS: the policy's say on who is an admin now. Required, so that no builder can
    # forget it and silently treat every admin as a former one.
    admin_ids: frozenset[int]
    default_timezone: str = "Europe/Moscow"
    team_chat_id: int | None = None
    card_renderer: CardRenderer | None = None
    now: Callable[[], datetime] = _utcnow

    async def apply(
        self,
        session: AsyncSession,
        consultation: Consultation,
        callback: Callback,
        source: EventSource,
        *,
        actor_chat_id: int | None = None,
        card_drawn: bool = False,
    ) -> ApplyResult:
        """Store what is new in `callback` and queue who hears what.

        `source` TERMINATE: a coordinator terminated it through the bot (the card's router
        calls this too, so a terminate and the web-hook that follows share one path and one
        dedupe key per recipient). `actor_chat_id`: the person who acted sees the card and
        needs no push of their own act. `card_drawn`: the caller has drawn the stored card
        message itself, so no in-place edit is queued for it.
        """
        # The consultation's row first, before any status_events row, as every transaction
        # of the status pipeline takes them: replicas then wait instead of deadlocking.
        await session.refresh(consultation, with_for_update={"key_share": True})
        stored = await StatusEventRepository(session).list_for(consultation.id)
        return await self._apply_locked(
            session,
            consultation,
            callback,
            source,
            stored,
            actor_chat_id=actor_chat_id,
            card_drawn=card_drawn,
        )

    async def apply_many(
        self,
        session: AsyncSession,
        answers: Sequence[tuple[Consultation, Callback]],
        source: EventSource,
    ) -> ApplyResult:
        """`apply` to a batch whose rows the caller has just read under lock, in ascending
        id order (``ConsultationRepository.lock_many``): their events are read with one
        query and the look is stored with one UPDATE, so a batch of unchanged consultations
        costs a handful of statements, not several per consultation."""
        total = ApplyResult()
        if not answers:
            return total
        ids = [consultation.id for consultation, _ in answers]
        stored = await StatusEventRepository(session).list_for_many(ids)
        diffs = {
            consultation.id: diff_history(callback, stored[consultation.id])
            for consultation, callback in answers
        }
        # Who may hear of those with something to tell, in two queries for the batch: their
        # coordinators (the session's identity map then answers for each; held here, as
        # the identity map keeps only weak references) and their doctors' accounts.
        telling = [
            consultation
            for consultation, _ in answers
            if diffs[consultation.id][1] or consultation.announced_at is None
        ]
        users = UserRepository(session)
        _held = await users.get_many(c.coordinator_id for c in telling if c.coordinator_id)
        batch = _Batch(
            diffs, await users.by_doctor_ids(c.doctor_id for c in telling if c.doctor_id)
        )
        for consultation, callback in sorted(answers, key=lambda pair: pair[0].id):
            one = await self._apply_locked(
                session,
                consultation,
                callback,
                source,
                stored[consultation.id],
                seen=False,
                batch=batch,
            )
            total.recorded += one.recorded
            total.queued += one.queued
        await session.flush()
        await ConsultationRepository(session).mark_seen(ids, self.now())
        return total

    async def _apply_locked(
        self,
        session: AsyncSession,
        consultation: Consultation,
        callback: Callback,
        source: EventSource,
        stored: Sequence[StatusEvent],
        *,
        actor_chat_id: int | None = None,
        card_drawn: bool = False,
        seen: bool = True,
        batch: _Batch | None = None,
    ) -> ApplyResult:
        """`apply` with the row fresh and locked and its `stored` events already read;
        `seen=False`: the caller stores the look (last_seen_at) itself; `batch`: what
        `apply_many` read for the whole batch."""
        result = ApplyResult()
        events = StatusEventRepository(session)
        history, fresh = batch.diffs[consultation.id] if batch else diff_history(callback, stored)
        now = self.now()
        occurrence_of = occurrences(history)
        before = previous_statuses(history, stored)
        terminated = (
            source is EventSource.TERMINATE
            or _terminated(callback)
            or any(e.source is EventSource.TERMINATE for e in stored)
        )

        changes: list[StatusChange] = []
        for event in fresh:
            occurred = event.occurred_at or now
            if await events.record(consultation.id, event.status.value, occurred, source):
                result.recorded += 1
                changes.append(
                    StatusChange(
                        status=event.status,
                        occurrence=occurrence_of.get(id(event), 1),
                        terminated=terminated and event.status is RequestStatus.UNSUCCESSFUL,
                        after=before.get(id(event)),
                    )
                )

        current = callback.status.id if callback.status is not None else None
        if current is None or current is RequestStatus.UNKNOWN:
            current = history[-1].status if history else None
        result.final = current is not None and current.is_final
        first_look = await self._update_consultation(
            session, consultation, now, result.final, seen=seen
        )
        # What /report counts (calls, talk, price), kept from this very look.
        await ConsultationRepository(session).store_figures(
            consultation, figures_of(callback), terminated=terminated, now=now
        )

        # The start event is stored by the wizard (source "start") without telling anyone:
        # it is announced here, at the first look only (the durable `announced_at` mark), so
        # a later look with no change tells nobody — not a doctor account linked since, a
        # coordinator who switched to "all", or the team chat under a migrated id.
        # A terminate through the bot is not the moment to announce a booking it ends.
        announce = [
            StatusChange(RequestStatus(e.status))
            for e in stored
            if first_look
            and e.source is EventSource.START
            and RequestStatus(e.status) is not RequestStatus.UNKNOWN
            and source is not EventSource.TERMINATE
        ]
        if (changes or announce) and consultation.origin is Origin.BOT:
            result.queued = await self._queue(
                session,
                consultation,
                callback,
                changes,
                stored,
                announce,
                actor_chat_id=actor_chat_id,
                card_drawn=card_drawn,
                doctor_accounts=batch.doctor_accounts if batch else None,
            )
        if result.recorded:
            log.info(
                "status_changes consultation=%s source=%s recorded=%d queued=%d",
                consultation.id,
                source.value,
                result.recorded,
                result.queued,
            )
        return result

    async def _update_consultation(
        self,
        session: AsyncSession,
        consultation: Consultation,
        now: datetime,
        final: bool,
        *,
        seen: bool,
    ) -> bool:
        """Store the look; True when it is the first one since the start (to announce it).
        Only what changed is written; nothing for an unchanged look with `seen` False.
        (`record` moved last_status with an ORM UPDATE that kept this loaded row in step.)"""
        first_look = consultation.announced_at is None
        if first_look:
            consultation.announced_at = now
        if seen:
            consultation.last_seen_at = now
        if final:
            consultation.state = ConsultationState.FINAL
        elif consultation.state in (ConsultationState.STARTING, ConsultationState.UNKNOWN):
            consultation.state = ConsultationState.ACTIVE
        if seen and session.is_modified(consultation):
            # A batch's rows (`seen` False) go out together in its one flush.
            await session.flush()
        return first_look

    async def _queue(
        self,
        session: AsyncSession,
        consultation: Consultation,
        callback: Callback,
        changes: Sequence[StatusChange],
        stored: Sequence[Any],
        announce: Sequence[StatusChange] = (),
        *,
        actor_chat_id: int | None = None,
        card_drawn: bool = False,
        doctor_accounts: Mapping[int, Sequence[User]] | None = None,
    ) -> int:
        # Chosen now, by the access policy: the coordinator who started it may have been
        # demoted, or taken out of ADMIN_IDS, since.
        people = await consultation_recipients(
            session,
            consultation,
            admin_ids=self.admin_ids,
            default_timezone=self.default_timezone,
            doctor_accounts=doctor_accounts,
        )
        coordinator = (
            _recipient(people.coordinator, RecipientRole.COORDINATOR)
            if people.coordinator is not None
            else None
        )
        doctors = [_recipient(p, RecipientRole.DOCTOR) for p in people.doctors]
        card_chat = (
            consultation.card_chat_id
            if consultation.card_message_id is not None
            and self.card_renderer is not None
            and not card_drawn
            else None
        )
        notices = decide(
            [*announce, *changes],
            coordinator=coordinator,
            doctors=doctors,
            team_chat_id=self.team_chat_id,
            # The card already shows the start; it is edited for real changes only.
            card_chat_id=card_chat if changes else None,
        )
        outbox = OutboxRepository(session)
        # The card's version is the number of events now stored: each batch edits it once.
        card_version = len(stored) + len(changes)
        queued = 0
        for notice in notices:
            personal = notice.kind not in (NoticeKind.CARD, NoticeKind.TEAM)
            if personal and actor_chat_id is not None and notice.recipient.chat_id == actor_chat_id:
                continue
            rendered, edit_id = self._render(
                notice, consultation, people.coordinator_name, callback
            )
            if await outbox.enqueue(
                chat_id=notice.recipient.chat_id,
                text=rendered.text,
                reply_markup=rendered.reply_markup,
                dedupe_key=notice.dedupe_key(consultation.id, card_version=card_version),
                consultation_id=consultation.id,
                edit_message_id=edit_id,
                # The team's line carries no patient data; a person's is re-checked when sent.
                audience=None if notice.kind is NoticeKind.TEAM else Audience.CONSULTATION,
            ):
                queued += 1
        return queued

    def _render(
        self,
        notice: Notice,
        consultation: Consultation,
        coordinator_name: str | None,
        cb: Callback,
    ) -> tuple[Outgoing, int | None]:
        t = self.i18n.translator(notice.recipient.lang)
        tz = zone_of(notice.recipient.timezone, self.default_timezone)
        if notice.kind is NoticeKind.CARD:
            assert self.card_renderer is not None
            return self.card_renderer(consultation, cb, t, tz), consultation.card_message_id
        rendered = self.render_notice(notice, consultation, coordinator_name, t, tz, self.now())
        return rendered, None


def _recipient(person: Person, role: RecipientRole) -> Recipient:
    return Recipient(
        chat_id=person.telegram_id,
        role=role,
        lang=person.lang,
        timezone=person.timezone,
        mode=person.mode,
    )


def _terminated(callback: Callback) -> bool:
    """The partner's timeline says the consultation was terminated (not a missed call)."""
    for entry in callback.timeline or []:
        type_id = getattr(entry.type, "id", None) if entry.type is not None else None
        if isinstance(type_id, str) and type_id.lower() == "terminated":
            return True
    return False
