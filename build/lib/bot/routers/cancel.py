"""/cancel (DESIGN.md, Conventions): leave whatever is in progress, and only that.

Inside a dialog (the /start_callback wizard, the /list window) the dialog stack is closed and
its buttons removed; a pending prompt of another flow (an FSM state without its own /cancel
handler) is left. Nothing else is touched: the FSM data other flows keep (e.g. the last /find
text) stays, and a consultation already confirmed is not affected (the dialog's lock makes
/cancel wait for a confirm in progress). Outside, it says there is nothing to cancel.

Placed after the access routers (their prompts have their own /cancel handlers with state
filters) and before the dialogs, whose text inputs would otherwise take "/cancel" as an
answer.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram_dialog import DialogManager
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.states import StartCallbackSG

log = logging.getLogger(__name__)

MEMBER_ROLES = {"admin", "coordinator", "doctor"}


async def cancel_command(
    message: Message,
    dialog_manager: DialogManager,
    state: FSMContext,
    session: AsyncSession,
    t: Translator,
) -> None:
    if dialog_manager.has_context():
        wizard = dialog_manager.current_context().state.group is StartCallbackSG
        await dialog_manager.reset_stack()  # closes every open dialog, removes its buttons
        log.info("cancel dialog user_id=%s wizard=%s", message.chat.id, wizard)
        await message.answer(t("wizard-cancelled") if wizard else t("cancel-done"))
        return
    if await state.get_state() is not None:
        # Commit first: the FSM storage may write through its own connection (SQLite).
        await session.commit()
        await state.set_state(None)  # the state only; data other flows keep stays
        await message.answer(t("cancel-done"))
        return
    await message.answer(t("cancel-nothing"))


def setup() -> Router:
    router = Router(name="cancel")
    router.message.register(
        cancel_command,
        Command("cancel"),
        F.chat.type == ChatType.PRIVATE,
        flags={"roles": MEMBER_ROLES},
    )
    return router
