"""The last router: whatever nobody else handled gets a short help, never silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot.i18n import Translator
from bot.middlewares.access import answer_no_access, role_of
from storage.models import User


def help_text(t: Translator, user: User | None) -> str:
    role = role_of(user)
    return t(f"help-{role}") if role else t("help-stranger")


def setup() -> Router:
    router = Router(name="fallback")
    router.message.filter(F.chat.type == ChatType.PRIVATE)

    @router.message(Command("help"))
    async def on_help(message: Message, t: Translator, user: User | None) -> None:
        await message.answer(help_text(t, user))

    @router.message()
    async def on_anything(message: Message, t: Translator, user: User | None) -> None:
        if user is None:
            # Only /start reaches here for a stranger (the access gate answers the rest).
            assert message.from_user is not None
            await answer_no_access(message, t, message.from_user.id)
            return
        await message.answer(f"{t('fallback-unknown')}\n\n{help_text(t, user)}")

    @router.callback_query()
    async def on_stale_button(query: CallbackQuery, t: Translator) -> None:
        # A button of an old message, or of a flow that no longer exists.
        await query.answer(t("error-stale-button"), show_alert=True)

    @router.my_chat_member()
    async def on_member_change(event: ChatMemberUpdated) -> None:
        # Nothing to say; registering the handler makes polling receive these updates so
        # the user middleware can track blocked/unblocked chats.
        return None

    return router
