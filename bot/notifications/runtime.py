"""The status notifications' parts in the running bot (steps of bot/app/runtime.py).

It also wires the Telegram rendering into the use case of applying a status change
(bot/services/status_changes.py, which knows no aiogram): ``render_notice`` and
``card_renderer`` return the text and the keyboard as the outbox stores them.

``build(rt)``: processor, worker, hook receiver and reconciler over the runtime's database,
API, outbox and health, nothing started yet. ``start(rt, parts, scheduler)``: the status
worker (stopped through ``rt.stack``) and the reconcile job on the bot's one scheduler
(bot/scheduler.py starts and stops it). The buttons' router (bot/routers/conclusion.py) is
in the dispatcher (bot/app/dispatcher.py); ``run_bot`` routes the receiver on the HTTP
listener and gives ``parts`` to handlers as ``data["notifications"]``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from api_client.models import Callback
from bot.i18n import I18n, Translator
from bot.notifications.messages import ConsultationView, markup_json, render
from bot.notifications.receiver import HookReceiver, db_mark_refresh
from bot.notifications.reconcile import ReconcileCounts, Reconciler
from bot.notifications.worker import StatusWorker
from bot.rendering.card import CardView, CardViewer, render_card
from bot.services.audience import Notice
from bot.services.status_changes import Outgoing, StatusProcessor
from storage.models import Consultation

if TYPE_CHECKING:
    from bot.app.runtime import Runtime


def card_renderer(
    consultation: Consultation, callback: Callback | None, t: Translator, tz: ZoneInfo
) -> Outgoing:
    """The one card (bot/rendering/card.py), re-rendered for the in-place edit.

    The card message is the one the wizard sent to the coordinator who started it (only
    coordinators and admins start consultations); a group chat id (negative) never gets
    patient data.
    """
    chat_id = consultation.card_chat_id
    viewer = CardViewer(role="coordinator", private=chat_id is not None and chat_id > 0)
    text, keyboard = render_card(CardView.of(consultation, callback), t, tz, viewer)
    return Outgoing(text, markup_json(keyboard))


def render_notice(
    notice: Notice,
    consultation: Consultation,
    coordinator_name: str | None,
    t: Translator,
    tz: ZoneInfo,
    now: datetime,
) -> Outgoing:
    """A personal or team notice (notifications/messages.py), from a plain copy of the row."""
    view = ConsultationView(
        id=consultation.id,
        partner_id=consultation.partner_id,
        doctor_name=consultation.doctor_name,
        coordinator_name=coordinator_name,
        patient_name=consultation.patient_name,
        begin_at=consultation.begin_at,
        duration_min=consultation.duration_min,
        created_at=consultation.start_attempted_at or consultation.created_at,
    )
    rendered = render(notice, view, t, tz, now=now)
    return Outgoing(rendered.text, markup_json(rendered.reply_markup))


def status_processor(
    i18n: I18n,
    *,
    admin_ids: Collection[int],
    default_timezone: str = "Europe/Moscow",
    team_chat_id: int | None = None,
    cards: bool = True,
) -> StatusProcessor:
    """The use case with the Telegram rendering; ``cards=False``: no in-place card edits."""
    return StatusProcessor(
        i18n=i18n,
        render_notice=render_notice,
        admin_ids=frozenset(admin_ids),
        default_timezone=default_timezone,
        team_chat_id=team_chat_id,
        card_renderer=card_renderer if cards else None,
    )


@dataclass
class Notifications:
    processor: StatusProcessor
    worker: StatusWorker
    receiver: HookReceiver
    reconciler: Reconciler


def build(rt: Runtime) -> Notifications:
    settings = rt.settings
    session_factory = rt.require("session_factory")
    api = rt.require("api")
    outbox_wake = rt.outbox.wake if rt.outbox is not None else (lambda: None)
    processor = status_processor(
        rt.i18n,
        admin_ids=settings.admin_ids,
        default_timezone=settings.default_timezone,
        team_chat_id=settings.team_chat_id,
    )
    worker = StatusWorker(
        session_factory=session_factory, api=api, processor=processor, outbox_wake=outbox_wake
    )
    receiver = HookReceiver(
        db_mark_refresh(session_factory), worker.wake, on_outcome=rt.metrics.hook
    )
    health = rt.health

    def reconciled(at: datetime, counts: ReconcileCounts) -> None:
        if health is not None:
            health.reconciled(at)

    reconciler = Reconciler(
        session_factory=session_factory,
        api=api,
        processor=processor,
        outbox_wake=outbox_wake,
        on_run=reconciled,
        unknown_bound=timedelta(seconds=settings.start_unknown_bound_seconds),
        starting_stale_after=timedelta(seconds=settings.start_stale_after_seconds),
        settle_within=settings.start_settle_within,
        on_timed=lambda seconds, counts: rt.metrics.reconciled(seconds, counts.result),
        yield_to=worker.wait_idle,
    )
    return Notifications(processor, worker, receiver, reconciler)


async def start(rt: Runtime, parts: Notifications, scheduler: AsyncIOScheduler) -> None:
    await rt.stack.enter_async_context(parts.worker)
    # Runs after the scheduler's stop (pushed later by bot/scheduler.py's start): a pass
    # still in progress at shutdown is cancelled; the next start-up redoes it.
    rt.stack.push_async_callback(parts.reconciler.cancel_running)
    parts.reconciler.schedule(scheduler, rt.settings.reconcile_interval_seconds)
