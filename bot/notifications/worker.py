"""The status worker: refreshes flagged consultations and queues what people must hear.

The web-hook receiver (and reconcile, and a restart) only flag consultations; this worker
takes the flagged ones in batches (many hits on one consultation coalesce into one fetch),
fetches each batch with ONE `get_many`, and hands every answer to `StatusProcessor.apply`,
the single path that web-hooks and reconcile share:

history diff (changes.py) → record events (the database's unique key makes a concurrent or
repeated look record nothing) → update the consultation → decide who hears what
(audience.py) → render (messages.py) → outbox, with a dedupe key per message and recipient.

Only events that were really recorded now lead to messages, so a duplicate GET, a forged
GET on a valid token, or a change already seen through reconcile sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.models import Callback, RequestStatus
from bot.i18n import I18n, Translator, language_of
from bot.notifications.audience import (
    Notice,
    NoticeKind,
    Recipient,
    RecipientRole,
    StatusChange,
    decide,
)
from bot.notifications.changes import KnownEvent, NewEvent, history_of, new_events
from bot.notifications.messages import ConsultationView, Rendered, render
from storage.enums import ConsultationState, EventSource, NotifyMode, Origin
from storage.models import Consultation, User
from storage.repositories.consultations import ConsultationRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.status_events import StatusEventRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

class CardRenderer(Protocol):
    """Renders the consultation card (owned by the wizard's rendering) for an in-place edit."""

    def __call__(
        self, consultation: Consultation, callback: Callback, t: Translator, tz: ZoneInfo
    ) -> Rendered: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApplyResult:
    recorded: int = 0
    queued: int = 0
    final: bool = False


@dataclass
class StatusProcessor:
    """Turns one fetched consultation into stored events and queued messages (no commit)."""

    i18n: I18n
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
        result = ApplyResult()
        events = StatusEventRepository(session)
        stored = await events.list_for(consultation.id)
        known = [KnownEvent(RequestStatus(e.status), e.occurred_at) for e in stored]
        history = history_of(callback)
        fresh = new_events(history, known)
        now = self.now()
        occurrences = _occurrences(history)
        before = _previous(history, stored)
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
                        occurrence=occurrences.get(id(event), 1),
                        terminated=terminated and event.status is RequestStatus.UNSUCCESSFUL,
                        after=before.get(id(event)),
                    )
                )

        current = callback.status.id if callback.status is not None else None
        if current is None or current is RequestStatus.UNKNOWN:
            current = history[-1].status if history else None
        result.final = current is not None and current.is_final
        first_look = await self._update_consultation(session, consultation, now, result.final)

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
    ) -> bool:
        """Store the look; True when it is the first one since the start (to announce it)."""
        # `record` moved last_status with a Core UPDATE: reload before reading or writing.
        await session.refresh(consultation)
        first_look = consultation.announced_at is None
        if first_look:
            consultation.announced_at = now
        consultation.last_seen_at = now
        if final:
            consultation.state = ConsultationState.FINAL
        elif consultation.state in (ConsultationState.STARTING, ConsultationState.UNKNOWN):
            consultation.state = ConsultationState.ACTIVE
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
    ) -> int:
        users = UserRepository(session)
        coordinator_user = (
            await users.get(consultation.coordinator_id)
            if consultation.coordinator_id is not None
            else None
        )
        coordinator = (
            self._recipient(coordinator_user, RecipientRole.COORDINATOR)
            if coordinator_user is not None and coordinator_user.is_active
            else None
        )
        doctors = (
            [
                self._recipient(u, RecipientRole.DOCTOR)
                for u in await users.by_doctor_id(consultation.doctor_id)
            ]
            if consultation.doctor_id is not None
            else []
        )
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
        view = _view(consultation, coordinator_user)
        outbox = OutboxRepository(session)
        # The card's version is the number of events now stored: each batch edits it once.
        card_version = len(stored) + len(changes)
        queued = 0
        for notice in notices:
            personal = notice.kind not in (NoticeKind.CARD, NoticeKind.TEAM)
            if personal and actor_chat_id is not None and notice.recipient.chat_id == actor_chat_id:
                continue
            rendered, edit_id = self._render(notice, view, consultation, callback)
            if await outbox.enqueue(
                chat_id=notice.recipient.chat_id,
                text=rendered.text,
                reply_markup=markup_json(rendered.reply_markup),
                dedupe_key=notice.dedupe_key(consultation.id, card_version=card_version),
                consultation_id=consultation.id,
                edit_message_id=edit_id,
            ):
                queued += 1
        return queued

    def _render(
        self, notice: Notice, view: ConsultationView, consultation: Consultation, cb: Callback
    ) -> tuple[Rendered, int | None]:
        t = self.i18n.translator(notice.recipient.lang)
        tz = _zone(notice.recipient.timezone, self.default_timezone)
        if notice.kind is NoticeKind.CARD:
            assert self.card_renderer is not None
            return self.card_renderer(consultation, cb, t, tz), consultation.card_message_id
        return render(notice, view, t, tz, now=self.now()), None

    def _recipient(self, user: User, role: RecipientRole) -> Recipient:
        return Recipient(
            chat_id=user.telegram_id,
            role=role,
            lang=language_of(user),
            timezone=user.timezone,
            mode=user.notify_mode or NotifyMode.ESSENTIALS,
        )


def _zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (KeyError, ValueError):
        return ZoneInfo(default)


def _view(consultation: Consultation, coordinator: User | None) -> ConsultationView:
    return ConsultationView(
        id=consultation.id,
        partner_id=consultation.partner_id,
        doctor_name=consultation.doctor_name,
        coordinator_name=coordinator.display_name if coordinator is not None else None,
        patient_name=consultation.patient_name,
        begin_at=consultation.begin_at,
        duration_min=consultation.duration_min,
        created_at=consultation.start_attempted_at or consultation.created_at,
    )


def markup_json(markup: InlineKeyboardMarkup | None) -> str | None:
    if markup is None:
        return None
    return json.dumps(markup.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


def _occurrences(history: Sequence[NewEvent]) -> dict[int, int]:
    """id(event) → how many times its status has appeared up to it (1 for the first)."""
    counts: dict[RequestStatus, int] = {}
    out: dict[int, int] = {}
    for event in history:
        counts[event.status] = counts.get(event.status, 0) + 1
        out[id(event)] = counts[event.status]
    return out


def _previous(history: Sequence[NewEvent], stored: Sequence[Any]) -> dict[int, RequestStatus]:
    """id(event) → the status just before it: the previous history entry, or for the first
    one (a history-less answer) the latest status already stored."""
    out: dict[int, RequestStatus] = {}
    last: RequestStatus | None = None
    if stored:
        latest = max(stored, key=lambda e: e.occurred_at)
        last = RequestStatus(latest.status)
    for event in history:
        if last is not None:
            out[id(event)] = last
        last = event.status
    return out


def _terminated(callback: Callback) -> bool:
    """The partner's timeline says the consultation was terminated (not a missed call)."""
    for entry in callback.timeline or []:
        type_id = getattr(entry.type, "id", None) if entry.type is not None else None
        if isinstance(type_id, str) and type_id.lower() == "terminated":
            return True
    return False


async def fetch_and_apply(
    session_factory: async_sessionmaker[AsyncSession],
    api: PartnerApiClient,
    processor: StatusProcessor,
    consultation_ids: Iterable[int],
    source: EventSource,
) -> ApplyResult:
    """Fetch these consultations with one `get_many` and apply every answer (one commit).

    API errors propagate (the caller puts the ids back or waits for the next tick).
    """
    total = ApplyResult()
    async with session_factory() as session:
        repo = ConsultationRepository(session)
        rows = await repo.get_many(consultation_ids)
        by_partner = {c.partner_id: c for c in rows.values() if c.partner_id}
        if not by_partner:
            return total
        callbacks = await api.get_many(list(by_partner))
        for callback in callbacks:
            consultation = by_partner.get(callback.id or "")
            if consultation is None:
                continue
            one = await processor.apply(session, consultation, callback, source)
            total.recorded += one.recorded
            total.queued += one.queued
        await session.commit()
    return total


@dataclass
class StatusWorker:
    """Woken by `wake()` (an asyncio.Event); also looks at the flags every `poll_interval`
    seconds, so a flag set by another replica or before a restart is never stranded."""

    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    processor: StatusProcessor
    outbox_wake: Callable[[], None] = lambda: None
    batch_size: int = 40
    poll_interval: float = 30.0
    error_backoff: float = 5.0
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    runs: int = 0

    def wake(self) -> None:
        self._event.set()

    async def run_once(self) -> int:
        """Drain the flagged consultations; the number of consultations refreshed."""
        refreshed = 0
        deferred: list[int] = []
        try:
            while True:
                async with self.session_factory() as session:
                    repo = ConsultationRepository(session)
                    ids = await repo.take_needing_refresh(self.batch_size)
                    if not ids:
                        break
                    rows = await repo.get_many(ids)
                    await session.commit()
                # The hook may come before the start call's answer bound the partner id:
                # keep the flag for the next look instead of dropping it.
                ready = [i for i in ids if rows.get(i) is not None and rows[i].partner_id]
                deferred += [i for i in ids if rows.get(i) is not None and not rows[i].partner_id]
                if not ready:
                    continue
                try:
                    result = await fetch_and_apply(
                        self.session_factory,
                        self.api,
                        self.processor,
                        ready,
                        EventSource.NOTIFICATION,
                    )
                except Exception:
                    log.exception("status_worker_batch_failed count=%d", len(ready))
                    await self._flag_again(ready)
                    raise
                refreshed += len(ready)
                if result.queued:
                    self.outbox_wake()
        finally:
            # Also when a batch raised: the held-back ids were taken off too.
            if deferred:
                await self._flag_again(deferred)
        return refreshed

    async def _flag_again(self, ids: list[int]) -> None:
        async with self.session_factory() as session:
            await ConsultationRepository(session).request_refresh(ids)
            await session.commit()

    async def run(self) -> None:
        while True:
            self._event.clear()
            try:
                await self.run_once()
                self.runs += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # Logged in run_once; the flags are back. A pause (not synchronisation) keeps
                # an outage of the partner API from turning into a busy loop.
                await asyncio.sleep(self.error_backoff)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.poll_interval)

    async def __aenter__(self) -> StatusWorker:
        self._task = asyncio.create_task(self.run(), name="status-worker")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
