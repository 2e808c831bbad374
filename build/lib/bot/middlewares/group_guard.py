"""Groups never see patient data: commands there get a pointer to the private chat.

The team chat (TEAM_CHAT_ID) only receives notifications, so every update from it is dropped.
Non-command messages in other groups are ignored (the bot must not chatter in a group).
"""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update

from bot.i18n import Translator

GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL})

Handler = NextMiddlewareType[TelegramObject]


def _command_target(message: Message) -> tuple[bool, str | None]:
    """(is a command, the @bot it is addressed to if any)."""
    text = message.text or message.caption or ""
    if not text.startswith("/"):
        return False, None
    command = text.split(maxsplit=1)[0]
    _, _, mention = command.partition("@")
    return True, (mention or None)


class GroupGuardMiddleware(BaseMiddleware):
    """Outer update middleware; runs after the language middleware (uses ``t``)."""

    def __init__(self, team_chat_id: int | None) -> None:
        self.team_chat_id = team_chat_id

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is None or chat.type not in GROUP_TYPES:
            return await handler(event, data)
        if self.team_chat_id is not None and chat.id == self.team_chat_id:
            return None
        if not isinstance(event, Update):
            return None
        bot: Bot = data["bot"]
        t: Translator = data["t"]
        if event.message is not None:
            is_command, mention = _command_target(event.message)
            if not is_command:
                return None
            me = await bot.me()
            if mention is not None and me.username and mention.lower() != me.username.lower():
                return None  # a command for another bot in the same group
            link = f"https://t.me/{me.username}" if me.username else ""
            await event.message.answer(t("group-use-private", bot_link=link))
            return None
        if event.callback_query is not None:
            query: CallbackQuery = event.callback_query
            await query.answer()
            return None
        return None
