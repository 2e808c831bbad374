"""Floors under the wizard's figure in ``tests.bench.updates``: what the same crowd costs
with less of the bot under it, each polling its own fake Bot API in the same process.

  dialog alone:  aiogram-dialog 2 on aiogram's MemoryStorage with the wizard's first four
                 windows (the same texts, the doctor Select of six, Back/Cancel rows) and no
                 database, middlewares, partner API, Fluent or access checks;
  bare traffic:  a bare aiogram Dispatcher making exactly the requests the wizard makes per
                 step (recorded from the real one: sendMessage; editMessageText +
                 answerCallbackQuery; editMessageReplyMarkup + sendMessage, twice;
                 editMessageText + answerCallbackQuery — 1.8 per update) with the same
                 keyboards, its state in a dict.

The fake players are ``crowd.wizard_user`` unchanged: they press the same buttons and wait
for the same prompts, so each floor answers them as the wizard does. Both use aiogram's own
session, as the echo bot does. tests/harness_selftest/test_update_floors.py checks that both
make the same requests as the real wizard over a cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.bench import crowd as u
from tests.bench.common import settle_heap

DOCTORS = [(f"d{i}", f"Доктор {i} · Терапевт") for i in range(5)] + [("d9", u.DOCTOR)]
BACK = "← Назад"
NOW = "Сейчас"


class FloorSG(StatesGroup):
    doctor = State()
    phone = State()
    name = State()
    time = State()


def dialog_floor() -> Dispatcher:
    """aiogram-dialog with the wizard's first four windows, nothing else."""
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
    dp = Dispatcher()

    @dp.message(Command("start_callback"))
    async def start(_m: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(FloorSG.doctor, mode=StartMode.RESET_STACK)

    dp.include_router(dialog)
    setup_dialogs(dp)
    return dp


def _keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


def bare_traffic() -> Dispatcher:
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


FLOORS: dict[str, Callable[[], Dispatcher]] = {
    "aiogram-dialog alone": dialog_floor,
    "bare bot, wizard's traffic": bare_traffic,
}


async def run_floor(
    build: Callable[[], Dispatcher], total: int, users: int, requests: list[str] | None = None
) -> u.RunResult:
    """The crowd against one floor; ``requests`` (if given) receives its Bot API calls."""
    from tests.fake_telegram import FakeTelegram, run_polling

    dp = build()
    async with FakeTelegram(check_spec=False) as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.url)))
        try:
            async with run_polling(dp, bot, handle_as_tasks=True):
                settle_heap()
                result = await u.drive(tg, users, total, u.wizard_user)
            if requests is not None:
                requests.extend(u.requests_of(tg))
            return result
        finally:
            await bot.session.close()
