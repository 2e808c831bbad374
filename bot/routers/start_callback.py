"""/start_callback: opens the wizard dialog (bot/dialogs/start_callback) for coordinators
and admins, in private chats (the group guard answers groups)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import Message
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.start_callback import build_dialog
from bot.states import StartCallbackSG

ROLES = {"coordinator", "admin"}


async def start_callback(message: Message, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(StartCallbackSG.doctor, mode=StartMode.RESET_STACK)


def setup() -> Router:
    router = Router(name="start_callback")
    router.message.register(
        start_callback,
        Command("start_callback"),
        F.chat.type == ChatType.PRIVATE,
        flags={"roles": ROLES},
    )
    router.include_router(build_dialog())
    return router
