"""Routers an update cannot match are passed over without aiogram's filter machinery.

aiogram offers an update to the routers in order (bot/app/dispatcher.py) and, in each, to
every handler's filters in turn; each try wraps middlewares and copies the update's data
(some forty keys) several times. A wizard answer went through 13 routers and about 25
filter checks before its dialog: a fifth of the CPU of a stale button, an eighth of a wizard
step. Most of those handlers can be ruled out from the update alone: a command handler
needs its command, a button handler its callback prefix, a prompt handler its FSM state, a
dialog its own open dialog.

So ``skip_unmatchable_routers`` reads, once, each handler's filters for such a *necessary*
condition (a guard: False means that filter would say False), and each router gets a
guard per event type: its root filters' guards, and — for a router with no sub-router —
"some handler's guards hold". A router whose guard fails answers UNHANDLED at once, exactly
what aiogram would have answered after trying it; a router with sub-routers skips only its
own handlers when none can match, then offers the update to its sub-routers as before. A
filter not known here gives no guard (the handler is always tried), and an event type with
outer middlewares on the router is never skipped (they run even when nothing matches):
order, matches and results stay aiogram's. tests/bot_runtime/test_routing.py checks every
guard against aiogram's own filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from inspect import isclass
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram_dialog.api.internal import CONTEXT_KEY
from aiogram_dialog.context.intent_filter import IntentFilter

# (the event, the handler data) -> False: the filter it came from would reject the event.
Guard = Callable[[TelegramObject, dict[str, Any]], bool]


def skip_unmatchable_routers(dp: Dispatcher) -> None:
    """Give every router of ``dp`` (not ``dp`` itself) its guards; routers included later
    (tests' own) are offered every update as aiogram does."""
    for router in dp.chain_tail:
        if router is dp:
            continue
        guards = {
            name: guard
            for name, observer in router.observers.items()
            if (guard := observer_guard(router, observer)) is not None
        }
        if guards:
            _install(router, guards)
        if router.sub_routers:
            # Offered the update, its own handlers are still passed over when none can match.
            for observer in router.observers.values():
                if observer.handlers and (guard := handlers_guard(observer)) is not None:
                    _narrow(observer, guard)


def observer_guard(router: Router, observer: TelegramEventObserver) -> Guard | None:
    """False: ``router`` (its sub-routers included) cannot handle this event; None: it may
    always have to be tried."""
    if len(observer.outer_middleware):
        return None
    # A root filter that rejects ends the router, sub-routers included (aiogram's order).
    root = _all_of(filter_guard(f) for f in observer._handler.filters or ())
    own = None if router.sub_routers else handlers_guard(observer)
    if own is None:
        return root
    return own if root is None else _both(root, own)


def handlers_guard(observer: TelegramEventObserver) -> Guard | None:
    """False: none of the observer's own handlers can take the event (none registered
    included); None: one of them has no guard."""
    guards = [handler_guard(h) for h in observer.handlers]
    known = [guard for guard in guards if guard is not None]
    return _any_of(known) if len(known) == len(guards) else None


def handler_guard(handler: HandlerObject) -> Guard | None:
    """All of the handler's filters must pass: any one's guard failing rules it out."""
    return _all_of(filter_guard(f) for f in handler.filters or ())


def filter_guard(event_filter: FilterObject) -> Guard | None:
    target = event_filter.callback
    if isinstance(target, Command):
        return _command_guard(target)
    if isinstance(target, CallbackQueryFilter):
        return _callback_guard(target)
    if isinstance(target, StateFilter):
        return _state_guard(target)
    if isinstance(target, IntentFilter):
        return _intent_guard(target)
    return None


def _install(router: Router, guards: dict[str, Guard]) -> None:
    propagate = router.propagate_event

    async def propagate_event(update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        guard = guards.get(update_type)
        if guard is not None and not guard(event, kwargs):
            return UNHANDLED
        return await propagate(update_type=update_type, event=event, **kwargs)

    router.propagate_event = propagate_event  # type: ignore[method-assign]


def _narrow(observer: TelegramEventObserver, guard: Guard) -> None:
    trigger = observer.trigger

    async def narrowed(event: TelegramObject, **kwargs: Any) -> Any:
        if not guard(event, kwargs):
            return UNHANDLED
        return await trigger(event, **kwargs)

    observer.trigger = narrowed  # type: ignore[method-assign]


# ---------------------------------------------------------------------------- the filters


def _command_guard(command: Command) -> Guard | None:
    """aiogram's Command: a message whose text (or caption) starts with one of the prefixes
    and this command's name (before any @mention; casefolded under ignore_case)."""
    if any(isinstance(name, re.Pattern) for name in command.commands):
        return None
    names = frozenset(str(name) for name in command.commands)
    prefixes, fold = command.prefix, command.ignore_case

    def guard(event: TelegramObject, data: dict[str, Any]) -> bool:
        if not isinstance(event, Message):
            return False
        text = event.text or event.caption
        if not text:
            return False
        # As aiogram splits it: leading blanks are no part of the command.
        words = text.split(maxsplit=1)
        if not words or words[0][0] not in prefixes:
            return False
        name = words[0][1:].partition("@")[0]
        return (name.casefold() if fold else name) in names

    return guard


def _callback_guard(callback: CallbackQueryFilter) -> Guard:
    """aiogram's CallbackData.filter(): data whose first part is the class's prefix."""
    prefix, separator = callback.callback_data.__prefix__, callback.callback_data.__separator__

    def guard(event: TelegramObject, data: dict[str, Any]) -> bool:
        if not isinstance(event, CallbackQuery) or not event.data:
            return False
        return event.data.partition(separator)[0] == prefix

    return guard


def _state_guard(state_filter: StateFilter) -> Guard | None:
    """aiogram's StateFilter: the current FSM state (``raw_state``) among its states."""
    allowed: set[str | None] = set()
    for state in state_filter.states:
        if isinstance(state, State):
            state = state.state
        if state is None or isinstance(state, str):
            if state == "*":
                return None
            allowed.add(state)
        elif isinstance(state, StatesGroup):
            allowed.update(type(state).__all_states_names__)
        elif isclass(state) and issubclass(state, StatesGroup):
            allowed.update(state.__all_states_names__)
        else:
            return None  # not a kind we know: always tried
    frozen = frozenset(allowed)

    def guard(event: TelegramObject, data: dict[str, Any]) -> bool:
        return data.get("raw_state") in frozen

    return guard


def _intent_guard(intent: IntentFilter) -> Guard | None:
    """aiogram-dialog's dialog router: the update's open dialog is this dialog."""
    group = intent.aiogd_intent_state_group
    if group is None:
        return None

    def guard(event: TelegramObject, data: dict[str, Any]) -> bool:
        context = data.get(CONTEXT_KEY)
        if not context:
            return False
        return bool(context.state.group == group)

    return guard


# ---------------------------------------------------------------------------- combining


def _all_of(guards: Iterable[Guard | None]) -> Guard | None:
    known = [guard for guard in guards if guard is not None]
    if not known:
        return None
    if len(known) == 1:
        return known[0]
    return lambda event, data: all(guard(event, data) for guard in known)


def _any_of(guards: list[Guard]) -> Guard:
    if len(guards) == 1:
        return guards[0]
    return lambda event, data: any(guard(event, data) for guard in guards)  # none: False


def _both(first: Guard, second: Guard) -> Guard:
    return lambda event, data: first(event, data) and second(event, data)
