"""Floors under the wizard's figure in ``tests.bench.updates``: what the same crowd costs
with less of the bot under it, each polling its own fake Bot API in the same process.

  dialog alone:    aiogram-dialog 2 on aiogram's MemoryStorage with the wizard's first four
                   windows (the same texts, the doctor Select of six, Back/Cancel rows) and
                   no database, middlewares, partner API, Fluent or access checks;
  dialog + state:  the same dialog with the conversation state stored as the bot stores it:
                   one SQL transaction per update on a scratch SQLite file
                   (UpdateTransactionMiddleware, UnitStorage, DeferredIsolation: read once,
                   written once, one commit) and still nothing else of the bot; for the
                   pg-redis backend (REDIS_FLOORS) the replica set-up's instead: the state in
                   Redis (one read, one MULTI/EXEC) under Redis locks (aiogram's and
                   aiogram-dialog's), the update's session on a scratch PostgreSQL database;
  bare traffic:    a bare aiogram Dispatcher making exactly the requests the wizard makes per
                   step (recorded from the real one: sendMessage; editMessageText +
                   answerCallbackQuery; editMessageReplyMarkup + sendMessage, twice;
                   editMessageText + answerCallbackQuery — 1.8 per update) with the same
                   keyboards, its state in a dict.

The fake players are ``crowd.wizard_user`` unchanged: they press the same buttons and wait
for the same prompts, so each floor answers them as the wizard does. Every floor talks to
its fake through the bot's own Bot API session (tests.fake_telegram.make_bot: one JSON body
per request, HTML parse mode), as the wizard does, so a floor differs from the wizard only
by the layers it leaves out. (Until session 16 they used aiogram's form-encoding session,
which costs more per request than the bot's: those floors sat lower than these.) The echo
bot of tests.bench.updates keeps aiogram's own session: it is the issue's baseline, a bare
aiogram bot. tests/harness_selftest/test_update_floors.py checks that every floor makes the
same requests as the real wizard over a cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.bench import crowd as u
from tests.bench.common import settle_heap, temp_db

DOCTORS = [(f"d{i}", f"Доктор {i} · Терапевт") for i in range(5)] + [("d9", u.DOCTOR)]
BACK = "← Назад"
NOW = "Сейчас"


class FloorSG(StatesGroup):
    doctor = State()
    phone = State()
    name = State()
    time = State()


def dialog_floor(dp: Dispatcher | None = None, **setup: Any) -> Dispatcher:
    """aiogram-dialog with the wizard's first four windows on ``dp`` (default: a bare
    Dispatcher on MemoryStorage), nothing else; ``setup`` goes to ``setup_dialogs``."""
    from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window, setup_dialogs
    from aiogram_dialog.widgets.input import MessageInput
    from aiogram_dialog.widgets.kbd import Button, Column, Row, Select
    from aiogram_dialog.widgets.text import Const, Format

    async def doctors(**_: Any) -> dict[str, Any]:
        return {"doctors": DOCTORS}

    async def on_doctor(_c: CallbackQuery, _w: Any, m: DialogManager, _item: str) -> None:
        await m.switch_to(FloorSG.phone)

    def to(state: State) -> Callable[[Message, Any, DialogManager], Awaitable[None]]:
        async def switch(_m: Message, _w: Any, m: DialogManager) -> None:
            await m.switch_to(state)

        return switch

    async def on_cancel(c: CallbackQuery, _b: Any, m: DialogManager) -> None:
        await m.done(show_mode=ShowMode.NO_UPDATE)
        if isinstance(c.message, Message):
            await c.message.edit_text(u.CANCELLED)  # the wizard's Cancel: one edit

    def nav() -> Row:
        return Row(
            Button(Const(BACK), id="back"),
            Button(Const(u.CANCEL), id="cancel", on_click=on_cancel),
        )

    dialog = Dialog(
        Window(
            Const(f"{u.ASK_DOCTOR}\nВыберите врача"),
            Column(
                Select(
                    Format("{item[1]}"),
                    id="doctor",
                    item_id_getter=lambda item: item[0],
                    items="doctors",
                    on_click=on_doctor,
                )
            ),
            nav(),
            state=FloorSG.doctor,
            getter=doctors,
        ),
        Window(Const(u.ASK_PHONE), MessageInput(to(FloorSG.name)), nav(), state=FloorSG.phone),
        Window(Const(u.ASK_NAME), MessageInput(to(FloorSG.time)), nav(), state=FloorSG.name),
        Window(Const(u.ASK_TIME), Row(Button(Const(NOW), id="now")), nav(), state=FloorSG.time),
    )
    dp = dp or Dispatcher()

    @dp.message(Command("start_callback"))
    async def start(_m: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(FloorSG.doctor, mode=StartMode.RESET_STACK)

    dp.include_router(dialog)
    setup_dialogs(dp, **setup)
    return dp


async def dialog_alone(_stack: AsyncExitStack) -> Dispatcher:
    return dialog_floor()


async def dialog_with_state(stack: AsyncExitStack) -> Dispatcher:
    """The dialog floor with the bot's conversation state: what bot/app/dispatcher.py and
    bot/app/fsm.py wire for SQLite, minus every other middleware and router."""
    from aiogram.fsm.storage.memory import SimpleEventIsolation

    from bot.fsm_storage import sql_storage
    from bot.fsm_unit import DeferredIsolation
    from bot.middlewares.database import UpdateTransactionMiddleware

    _url, factory = await stack.enter_async_context(temp_db())
    dp = Dispatcher(
        storage=sql_storage(factory), events_isolation=SimpleEventIsolation(), disable_fsm=True
    )
    dp.update.outer_middleware(UpdateTransactionMiddleware(factory, dp.fsm))
    return dialog_floor(dp, events_isolation=DeferredIsolation(SimpleEventIsolation()))


def _keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


async def dialog_with_redis_state(stack: AsyncExitStack) -> Dispatcher:
    """The dialog floor with the replica set-up's conversation state: bot/app/fsm.py's
    Redis storage and locks (TEST_REDIS_URL, its database flushed first), the update's
    session on a scratch database of TEST_POSTGRES_URL."""
    import os
    from types import SimpleNamespace

    from bot.app.fsm import dialog_isolation, redis_client, redis_fsm
    from bot.middlewares.database import UpdateTransactionMiddleware

    settings: Any = SimpleNamespace(redis_url=os.environ["TEST_REDIS_URL"], retention_days=30)
    redis = redis_client(settings.redis_url)
    stack.push_async_callback(redis.aclose)
    await redis.flushdb()
    _url, factory = await stack.enter_async_context(temp_db(os.environ["TEST_POSTGRES_URL"]))
    storage, isolation = redis_fsm(redis, settings)
    dp = Dispatcher(storage=storage, events_isolation=isolation, disable_fsm=True)
    dp.update.outer_middleware(UpdateTransactionMiddleware(factory, dp.fsm))
    return dialog_floor(dp, events_isolation=dialog_isolation(dp, settings))


async def bare_traffic(_stack: AsyncExitStack) -> Dispatcher:
    """The wizard's requests and keyboards, from plain handlers and a dict."""
    nav = [(BACK, "back"), (u.CANCEL, "cancel")]
    doctor_kb = _keyboard(*([(name, f"doctor:{i}")] for i, name in DOCTORS), nav)
    nav_kb = _keyboard(nav)
    time_kb = _keyboard([(NOW, "now")], nav)
    step: dict[int, str] = {}
    shown: dict[int, int] = {}  # chat → the message whose keyboard is live
    dp = Dispatcher()

    @dp.message(Command("start_callback"))
    async def start(m: Message) -> None:
        step[m.chat.id] = "phone"
        sent = await m.answer(f"{u.ASK_DOCTOR}\nВыберите врача", reply_markup=doctor_kb)
        shown[m.chat.id] = sent.message_id

    @dp.callback_query(F.data.startswith("doctor:"))
    async def doctor(c: CallbackQuery) -> None:
        if isinstance(c.message, Message):
            await c.message.edit_text(u.ASK_PHONE, reply_markup=nav_kb)
        await c.answer()

    @dp.callback_query(F.data == "cancel")
    async def cancel(c: CallbackQuery) -> None:
        if isinstance(c.message, Message):
            step.pop(c.message.chat.id, None)
            await c.message.edit_text(u.CANCELLED)
        await c.answer()

    @dp.message(F.text)
    async def text(m: Message, bot: Bot) -> None:
        at = step.get(m.chat.id)
        if at is None:
            return
        await bot.edit_message_reply_markup(chat_id=m.chat.id, message_id=shown[m.chat.id])
        if at == "phone":
            step[m.chat.id] = "name"
            sent = await m.answer(u.ASK_NAME, reply_markup=nav_kb)
        else:
            step[m.chat.id] = "time"
            sent = await m.answer(u.ASK_TIME, reply_markup=time_kb)
        shown[m.chat.id] = sent.message_id

    return dp


# A floor's dispatcher, built with what it needs kept open on the stack (a database).
Floor = Callable[[AsyncExitStack], Awaitable[Dispatcher]]

# In the order of the table: the least of the bot first.
FLOORS: dict[str, Floor] = {
    "bare bot, wizard's traffic": bare_traffic,
    "aiogram-dialog alone": dialog_alone,
    "aiogram-dialog + state (SQL)": dialog_with_state,
}
# The pg-redis backend's state floor (needs TEST_POSTGRES_URL and TEST_REDIS_URL).
REDIS_FLOORS: dict[str, Floor] = {"aiogram-dialog + state (Redis)": dialog_with_redis_state}


async def run_floor(
    build: Floor, total: int, users: int, requests: list[str] | None = None
) -> u.RunResult:
    """The crowd against one floor; ``requests`` (if given) receives its Bot API calls."""
    from tests.fake_telegram import FakeTelegram, make_bot, run_polling

    async with AsyncExitStack() as stack:
        dp = await build(stack)
        tg = await stack.enter_async_context(FakeTelegram(check_spec=False))
        bot: Bot = make_bot(tg)
        stack.push_async_callback(bot.session.close)
        async with run_polling(dp, bot, handle_as_tasks=True):
            settle_heap()
            result = await u.drive(tg, users, total, u.wizard_user)
        if requests is not None:
            requests.extend(u.requests_of(tg))
        return result
