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
from aiogram.types import CallbackQuery
from aiogram_dialog.manager.message_manager import MessageManager

KEY = "answered_queries"


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
    def __init__(self, answered: AnsweredQueries) -> None:
        self.answered = answered

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        if self.answered.consume(callback_query.id):
            return
        await super().answer_callback(bot, callback_query)


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
