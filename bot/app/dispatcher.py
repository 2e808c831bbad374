"""The production Dispatcher: every router and dialog, in one written order.

Routers, first match wins (``dp.sub_routers`` names in brackets):
   1. errors                    [errors]              only ``errors`` events: the apology
   2. start                     [access.start]        /start, invite codes, strangers
   3. admin_invites             [access.invites]      /invite
   4. admin_users               [access.users]        /users
   5. admin_doctors             [access.doctors]      /doctors
   6. preferences               [access.preferences]  /language, /timezone, /settings
   7. digest_settings           [access.digest]       /settings: the morning digest's time
   8. cancel                    [cancel]              before the dialogs, whose text inputs
                                                      would take "/cancel" as text
   9. report                    [report]              /report, its buttons and typed dates
                                                      (after cancel: /cancel leaves them)
  10. consultations             [consultations]       /list, /find, card buttons; the list
                                                      dialog inside it
  11. start_callback            [start_callback]      /start_callback and the wizard dialog
  12. conclusion                [conclusion]          buttons of the status messages
                                                      (Conclusion, Start again)
  13. fallback                  [fallback]            /help, unknown command/text, stale
                                                      buttons: must stay last
aiogram-dialog is set up on the Dispatcher after that (it appends its own router).

Every module is imported plainly: a missing one fails the start with ImportError. Tests build
the dispatcher with this same function (tests/bot_fixtures.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiogram import Dispatcher
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram_dialog import setup_dialogs
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.fsm import build_fsm, dialog_isolation
from bot.app.routing import skip_unmatchable_routers
from bot.dialogs import answered
from bot.i18n import I18n
from bot.metrics import Metrics, UpdateMetricsMiddleware
from bot.middlewares import setup_middlewares
from bot.routers import (
    admin_doctors,
    admin_invites,
    admin_users,
    cancel,
    conclusion,
    consultations,
    digest_settings,
    errors,
    fallback,
    preferences,
    report,
    start,
    start_callback,
)
from bot.settings import Settings

if TYPE_CHECKING:
    from api_client.client import PartnerApiClient


def create_dispatcher(
    *,
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    outbox_wakeup: Callable[[], None] | None = None,
    metrics: Metrics | None = None,
    **workflow_data: Any,
) -> Dispatcher:
    """The production dispatcher; tests build it the same way (see tests/bot_fixtures.py).

    Handler data from here: settings, api, session_factory, i18n, outbox_wakeup, is_sandbox,
    plus ``workflow_data`` (``run_bot`` passes health, outbox, notifications, scheduler);
    the middlewares add session, db_user, user, t, lang, tz, is_stranger. ``metrics``
    (``run_bot`` passes the app's; else a fresh, unexposed one) times every update.
    """
    if storage is None:
        storage, default_isolation = build_fsm(settings, session_factory)
        events_isolation = events_isolation or default_isolation
    dp = Dispatcher(
        storage=storage,
        events_isolation=events_isolation or SimpleEventIsolation(),
        # Not registered by aiogram: UpdateTransactionMiddleware runs it inside the update's
        # session and state unit, so the user's lock is held until the one commit.
        disable_fsm=True,
        settings=settings,
        api=api,
        session_factory=session_factory,
        i18n=i18n,
        outbox_wakeup=outbox_wakeup or _no_wakeup,
        is_sandbox=settings.is_sandbox,
        **workflow_data,
    )
    # First of ours (inside aiogram's ErrorsMiddleware): it sees every update and what raised.
    dp.update.outer_middleware(UpdateMetricsMiddleware(metrics or Metrics()))
    setup_middlewares(
        dp,
        session_factory=session_factory,
        i18n=i18n,
        admin_ids=settings.admin_ids,
        default_zone=settings.default_zone,
        team_chat_id=settings.team_chat_id,
    )
    # The order of the module docstring; each setup() makes a fresh router, so many
    # dispatchers (tests, a restart) never share one.
    dp.include_routers(
        errors.setup(),
        start.setup(),
        admin_invites.setup(),
        admin_users.setup(),
        admin_doctors.setup(),
        preferences.setup(),
        digest_settings.setup(),
        cancel.setup(),
        report.setup(),
        consultations.setup(),
        start_callback.setup(),
        conclusion.setup(),
        fallback.setup(),
    )
    setup_dialogs(
        dp, events_isolation=dialog_isolation(dp, settings), message_manager=answered.install(dp)
    )
    run_sync_callables_inline(dp)
    skip_unmatchable_routers(dp)
    return dp


def run_sync_callables_inline(dp: Dispatcher) -> None:
    """Call the plain (non-async) filters and handlers of every router on the event loop.

    aiogram runs each of them through ``asyncio.to_thread``: every ``F.chat.type == …`` of
    every router an update passes costs a thread hop (most of an update's filters). Ours
    and aiogram-dialog's are pure checks of the update; none does I/O. Routers included
    afterwards (tests' own) keep aiogram's way: correct, only slower.
    """
    for router in dp.chain_tail:
        for observer in router.observers.values():
            for handler in (observer._handler, *observer.handlers):
                _inline(handler)
                for event_filter in handler.filters or ():
                    _inline(event_filter)
        # aiogram-dialog's text inputs check content types with aiogram filter objects too.
        for window in getattr(router, "windows", {}).values():
            _inline_input(getattr(window, "on_message", None))


def _inline_input(widget: Any) -> None:
    for event_filter in getattr(widget, "filters", ()):
        if isinstance(event_filter, CallableObject):
            _inline(event_filter)
    for inner in getattr(widget, "inputs", ()):
        _inline_input(inner)


def _inline(target: CallableObject) -> None:
    if target.awaitable:
        return
    sync = target.callback

    async def call(*args: Any, **kwargs: Any) -> Any:
        return sync(*args, **kwargs)

    target.callback = call
    target.awaitable = True


def _no_wakeup() -> None:
    return None
