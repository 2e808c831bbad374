"""Joins the status notifications to the running bot (a component of bot/app.py).

configure(rt): the hook route on the HTTP listener, the buttons' router.
start(rt): the status worker (stopped through rt.stack) and the reconcile job, on the bot's
one scheduler (bot/scheduler.py, which starts and stops it).
Everything lives on one `Notifications` object kept in rt.workflow_data (no module state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from api_client.models import Callback
from bot.i18n import Translator
from bot.notifications.messages import Rendered
from bot.notifications.receiver import HookReceiver, db_mark_refresh
from bot.notifications.worker import StatusProcessor, StatusWorker
from bot.reconcile import Reconciler
from bot.rendering.card import CardView, CardViewer, render_card
from bot.scheduler import scheduler_of
from storage.models import Consultation

KEY = "notifications"


def card_renderer(
    consultation: Consultation, callback: Callback | None, t: Translator, tz: ZoneInfo
) -> Rendered:
    """The one card (bot/rendering/card.py), re-rendered for the in-place edit.

    The card message is the one the wizard sent to the coordinator who started it (only
    coordinators and admins start consultations); a group chat id (negative) never gets
    patient data.
    """
    chat_id = consultation.card_chat_id
    viewer = CardViewer(role="coordinator", private=chat_id is not None and chat_id > 0)
    text, keyboard = render_card(CardView.of(consultation, callback), t, tz, viewer)
    return Rendered(text, keyboard)


@dataclass
class Notifications:
    processor: StatusProcessor
    worker: StatusWorker
    receiver: HookReceiver
    reconciler: Reconciler


def build(rt: Any) -> Notifications:
    settings = rt.settings
    session_factory = rt.require("session_factory")
    api = rt.require("api")
    outbox_wake = rt.outbox.wake if rt.outbox is not None else (lambda: None)
    processor = StatusProcessor(
        i18n=rt.i18n,
        default_timezone=settings.default_timezone,
        team_chat_id=settings.team_chat_id,
        card_renderer=card_renderer,
    )
    worker = StatusWorker(
        session_factory=session_factory, api=api, processor=processor, outbox_wake=outbox_wake
    )
    receiver = HookReceiver(db_mark_refresh(session_factory), worker.wake)
    health = rt.health

    def reconciled(at: Any, counts: Any) -> None:
        if health is not None:
            health.reconciled(at)

    reconciler = Reconciler(
        session_factory=session_factory,
        api=api,
        processor=processor,
        outbox_wake=outbox_wake,
        on_run=reconciled,
    )
    return Notifications(processor, worker, receiver, reconciler)


def configure(rt: Any) -> None:
    from bot.routers import conclusion

    parts = build(rt)
    rt.workflow_data[KEY] = parts
    rt.http_routes.append(parts.receiver.setup)
    rt.extra_routers.append(conclusion.setup())


async def start(rt: Any) -> None:
    parts: Notifications = rt.workflow_data[KEY]
    await rt.stack.enter_async_context(parts.worker)
    # Runs after the scheduler's stop (pushed later by bot/scheduler.py's start): a pass
    # still in progress at shutdown is cancelled; the next start-up redoes it.
    rt.stack.push_async_callback(parts.reconciler.cancel_running)
    parts.reconciler.schedule(scheduler_of(rt), rt.settings.reconcile_interval_seconds)
