"""Callback queries answered early, so aiogram-dialog does not answer them a second time.

The wizard and the list answer a press at once, before slow work (a partner API call, a page
load), as Telegram wants; aiogram-dialog then answers the same query after rendering, which
Telegram refuses ("query is too old") and aiogram-dialog logs as a warning on every press.
``answer_early`` answers and records the query id in the dispatcher's ``AnsweredQueries``
(workflow data ``answered_queries``); the dialogs' ``SkipAnsweredMessageManager`` skips the
ids recorded there. A query is handled by one process, so a per-dispatcher record is right
even with several replicas; it is bounded, so ids answered outside a dialog (never looked
up) cannot pile up.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram_dialog.api.entities import OldMessage
from aiogram_dialog.manager.message_manager import MessageManager

from bot.telegram_methods import RemoveInlineKeyboard

KEY = "answered_queries"
_NOTHING_TO_REMOVE = (
    "message is not modified",
    "message can't be edited",
    "message to edit not found",
    "MESSAGE_ID_INVALID",
)


class AnsweredQueries:
    def __init__(self, limit: int = 4096) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def add(self, query_id: str) -> None:
        self._ids[query_id] = None
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)

    def consume(self, query_id: str) -> bool:
        """True (once) when the query was answered early."""
        return self._ids.pop(query_id, False) is None


class SkipAnsweredMessageManager(MessageManager):
    """The dialogs' message manager: skips the queries answered early; takes a message's
    buttons away without parsing the edited message Telegram sends back (nobody reads it)."""

    def __init__(self, answered: AnsweredQueries) -> None:
        self.answered = answered

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        if self.answered.consume(callback_query.id):
            return
        await super().answer_callback(bot, callback_query)

    async def remove_inline_kbd(self, bot: Bot, old_message: OldMessage | None) -> Message | None:
        if not old_message:
            return None
        try:
            await bot(
                RemoveInlineKeyboard(
                    chat_id=old_message.chat.id,
                    message_id=old_message.message_id,
                    business_connection_id=old_message.business_connection_id,
                )
            )
        except TelegramBadRequest as err:
            # As aiogram-dialog: no buttons left, or a message gone or too old to edit.
            if not any(reason in err.message for reason in _NOTHING_TO_REMOVE):
                raise
        return None


def install(dp: Dispatcher) -> SkipAnsweredMessageManager:
    """The dialogs' message manager for ``setup_dialogs``; the record goes into ``dp``'s data."""
    answered = AnsweredQueries()
    dp[KEY] = answered
    return SkipAnsweredMessageManager(answered)


async def answer_early(query: CallbackQuery, data: Mapping[str, Any], **kwargs: Any) -> None:
    """Answer now (before slow work) and let the dialog know it need not answer again."""
    await query.answer(**kwargs)
    answered = data.get(KEY)
    if isinstance(answered, AnsweredQueries):
        answered.add(query.id)
