"""/start_callback: opens the wizard dialog (bot/dialogs/start_callback) in private chats
(the group guard answers groups). Who may start is the access policy's answer, asked when
the wizard opens and again at its Confirm (bot/services/consultation_start.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import Message
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.start_callback import build_dialog
from bot.states import StartCallbackSG


async def start_callback(message: Message, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(StartCallbackSG.doctor, mode=StartMode.RESET_STACK)


def setup() -> Router:
    router = Router(name="start_callback")
    router.message.register(
        start_callback,
        Command("start_callback"),
        F.chat.type == ChatType.PRIVATE,
    )
    router.include_router(build_dialog())
    return router
