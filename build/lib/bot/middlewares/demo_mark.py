"""Sandbox mode: every text the bot sends says it is a demo.

A Bot request middleware (``bot.session.middleware(DemoMarkMiddleware(...))``) appends
``t("demo-mark")`` to sendMessage/editMessageText, so no handler or outbox row has to
remember it. The language is the current update's (the language middleware publishes it for
its chat in a context variable) or, for the outbox, the stored user's (``language_of``);
for groups and chats of no stored user, both lines.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n, language_of
from storage.models import User

TEXT_LIMIT = 4096

# (chat id, language) of the update being handled: a send to that chat uses its language.
current_chat_language: ContextVar[tuple[int, str] | None] = ContextVar(
    "current_chat_language", default=None
)

LanguageLookup = Callable[[int], Awaitable[str | None]]


def stored_language_lookup(
    session_factory: async_sessionmaker[AsyncSession], ttl: float = 60.0
) -> LanguageLookup:
    """A stored user's push language (``language_of``), cached for ``ttl``; None for groups
    and chats of no stored user (the mark then carries both languages)."""
    cache: dict[int, tuple[float, str | None]] = {}

    async def lookup(chat_id: int) -> str | None:
        if chat_id < 0:
            return None  # groups: both languages
        hit = cache.get(chat_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        async with session_factory() as session:
            user = await session.get(User, chat_id)
            lang = language_of(user) if user is not None else None
        if len(cache) > 10_000:
            cache.clear()
        cache[chat_id] = (now, lang)
        return lang

    return lookup


class DemoMarkMiddleware(BaseRequestMiddleware):
    def __init__(self, i18n: I18n, language_lookup: LanguageLookup | None = None) -> None:
        self.i18n = i18n
        self.language_lookup = language_lookup
        self._both = "\n".join(
            dict.fromkeys(i18n.translator(lang)("demo-mark") for lang in ("ru", "en"))
        )

    async def mark_for(self, chat_id: int | str | None) -> str:
        current = current_chat_language.get()
        if current is not None and current[0] == chat_id:
            return self.i18n.translator(current[1])("demo-mark")
        if self.language_lookup is not None and isinstance(chat_id, int):
            lang = await self.language_lookup(chat_id)
            if lang:
                return self.i18n.translator(lang)("demo-mark")
        return self._both

    def is_marked(self, text: str) -> bool:
        return any(
            self.i18n.translator(lang)("demo-mark") in text for lang in ("ru", "en")
        )

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        marked: str | None = None
        if isinstance(method, SendMessage | EditMessageText) and isinstance(method.text, str):
            text = method.text
            if not self.is_marked(text):
                mark = await self.mark_for(method.chat_id)
                candidate = f"{text}\n\n{mark}"
                # Telegram refuses > 4096 characters; a missing mark beats a lost message.
                if len(candidate) <= TEXT_LIMIT:
                    marked = candidate
        if marked is not None:
            # Copied outside the isinstance branch: the copy keeps the method's own type.
            method = method.model_copy(update={"text": marked})
        return await make_request(bot, method)
