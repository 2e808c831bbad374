"""bot/app/routing.py: a guard may only say False where aiogram's own filter says False.

Every guarded filter of the production dispatcher is checked against aiogram's answer over
messages (each registered command in its spellings, captions, plain texts), button data (each
registered prefix, dialog and stale data), every FSM state of the bot and every open dialog.
Then what the guards are for: a wizard answer is offered to the three routers that may take
it, not to all thirteen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User
from aiogram_dialog.api.internal import CONTEXT_KEY
from aiogram_dialog.context.intent_filter import IntentFilter

from bot.app.routing import filter_guard, handlers_guard, observer_guard
from bot.states import AccessStates, ConsultationsListSG, StartCallbackSG

USER = User(id=7, is_bot=False, first_name="U")
CHAT = Chat(id=7, type="private")
ME = User(id=42, is_bot=True, first_name="Bot", username="test_bot")


def _message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(
        message_id=1,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=CHAT,
        from_user=USER,
        text=text,
        caption=caption,
    )


def _press(data: str | None) -> CallbackQuery:
    return CallbackQuery(
        id="1", from_user=USER, chat_instance="1", data=data, message=_message("x")
    )


def _filters(dp: Dispatcher) -> Iterator[FilterObject]:
    seen: set[int] = set()
    for router in dp.chain_tail:
        for observer in router.observers.values():
            for handler in (observer._handler, *observer.handlers):
                for event_filter in handler.filters or ():
                    if id(event_filter) not in seen:
                        seen.add(id(event_filter))
                        yield event_filter


def _events(filters: list[FilterObject]) -> list[TelegramObject]:
    names = {"start", "help", "unknown", "START"}
    prefixes = {"zz", "lst", "cons", "abc\x1dbtn"}
    for event_filter in filters:
        target = event_filter.callback
        if isinstance(target, Command):
            names.update(str(name) for name in target.commands)
        if isinstance(target, CallbackQueryFilter):
            prefixes.add(target.callback_data.__prefix__)
    texts = ["hello", "/", "", " ", "+7 909 970-85-93", "!help", "/ start"]
    for name in sorted(names):
        texts += [
            f"/{name}",
            f"/{name} arg",
            f"  /{name}",
            f"/{name}@test_bot",
            f"/{name}@other_bot",
            f"/{name.upper()}",
            f"/{name}x",
            f"{name}",
        ]
    events: list[TelegramObject] = [_message(text) for text in texts if text]
    events += [_message(caption=f"/{name}") for name in sorted(names)]
    events.append(_message())
    data: list[str | None] = [None, "", ":", "abc\x1dbtn", "zz:stale"]
    for prefix in sorted(prefixes):
        data += [prefix, f"{prefix}:", f"{prefix}:1", f"{prefix}:1:2:3", f"{prefix}x:1"]
    events += [_press(value) for value in data]
    return events


def _states() -> list[str | None]:
    groups: list[type[StatesGroup]] = [
        AccessStates,
        StartCallbackSG,
        ConsultationsListSG,
        *StatesGroup.__subclasses__(),
    ]
    states: list[str | None] = [None, "elsewhere:state"]
    for group in groups:
        states += list(group.__all_states_names__)
    return states


def _contexts(filters: list[FilterObject]) -> list[Any]:
    groups = {
        f.callback.aiogd_intent_state_group for f in filters if isinstance(f.callback, IntentFilter)
    }
    contexts: list[Any] = [None]
    contexts += [SimpleNamespace(state=SimpleNamespace(group=group)) for group in groups]
    return contexts


@pytest.fixture
async def bot() -> Any:
    bot = Bot("42:TEST")
    bot._me = ME  # a command's @mention is checked against the bot's own name
    yield bot
    await bot.session.close()


async def test_a_guard_never_rules_out_what_aiogram_accepts(
    dispatcher: Dispatcher, bot: Bot
) -> None:
    filters = [f for f in _filters(dispatcher) if filter_guard(f) is not None]
    kinds = {type(f.callback) for f in filters}
    assert {Command, StateFilter, CallbackQueryFilter, IntentFilter} <= {
        base for kind in kinds for base in kind.__mro__
    }
    events, states, contexts = _events(filters), _states(), _contexts(filters)
    accepted = ruled_out = 0
    for event_filter in filters:
        guard = filter_guard(event_filter)
        assert guard is not None
        target = event_filter.callback
        if isinstance(target, StateFilter):
            cases = [(events[0], {"raw_state": s}) for s in states]
        elif isinstance(target, IntentFilter):
            cases = [(events[0], {CONTEXT_KEY: c}) for c in contexts]
        else:
            cases = [(e, {}) for e in events]
        for event, data in cases:
            data = {"bot": bot, **data}
            says = bool(await event_filter.call(event, **data))
            if not guard(event, data):
                assert not says, (target, event, data)
                ruled_out += 1
            elif says:
                accepted += 1
    # Not vacuous: the guards rule most cases out and let every kind of match through.
    assert ruled_out > 10 * accepted > 0


async def test_a_wizard_answer_is_offered_to_the_routers_that_may_take_it(
    dispatcher: Dispatcher,
) -> None:
    def offered(event: TelegramObject, data: dict[str, Any], kind: str) -> list[str]:
        names = []
        for router in dispatcher.sub_routers:
            observer = router.observers.get(kind)
            guard = observer_guard(router, observer) if observer is not None else None
            if guard is None or guard(event, data):
                names.append(router.name)
        return names

    in_wizard = {"raw_state": None, CONTEXT_KEY: SimpleNamespace(state=StartCallbackSG.phone)}
    typed = offered(_message("+7 909 970-85-93"), in_wizard, "message")
    assert typed[:3] == ["consultations", "start_callback", "fallback"]
    pressed = offered(_press("abc\x1dbtn"), in_wizard, "callback_query")
    assert pressed[:3] == ["consultations", "start_callback", "fallback"]
    # A prompt of another flow still gets its answer first; a command its router.
    prompt = {"raw_state": AccessStates.invite_doctor_id.state, CONTEXT_KEY: None}
    assert "access.invites" in offered(_message("12345"), prompt, "message")
    assert offered(_message("/cancel"), {"raw_state": None}, "message")[0] == "cancel"


class Flow(StatesGroup):
    asking = State()


def test_what_a_router_guard_is_made_of() -> None:
    commands = Router(name="commands")
    commands.message.register(_noop, Command("a"))
    commands.message.register(_noop, StateFilter(Flow.asking), F.text)
    open_ended = Router(name="open")
    open_ended.message.register(_noop, Command("a"))
    open_ended.message.register(_noop, F.text)  # no guard known: always tried
    parent = Router(name="parent")
    parent.message.register(_noop, Command("a"))
    parent.include_router(Router(name="child"))
    watched = Router(name="watched")
    watched.message.register(_noop, Command("a"))
    watched.message.outer_middleware(_pass)

    plain, data = _message("hi"), {"raw_state": None}
    guard = observer_guard(commands, commands.message)
    assert guard is not None and not guard(plain, data)
    assert guard(_message("/a"), data) and guard(plain, {"raw_state": Flow.asking.state})
    assert observer_guard(open_ended, open_ended.message) is None
    assert observer_guard(parent, parent.message) is None  # its child may take anything
    own = handlers_guard(parent.message)  # but its own handler is passed over
    assert own is not None and not own(plain, data) and own(_message("/a"), data)
    assert observer_guard(watched, watched.message) is None  # its middleware always runs
    empty = observer_guard(commands, commands.callback_query)
    assert empty is not None and not empty(_press("x"), data)


async def _noop(*_args: Any) -> None:
    return None


async def _pass(handler: Any, event: Any, data: dict[str, Any]) -> Any:
    return await handler(event, data)
