"""Injects ``t`` (Translator), ``lang`` and ``tz`` (ZoneInfo) for every update."""

from __future__ import annotations

import logging
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.types import Chat, TelegramObject, User

from bot.i18n import I18n, resolve_language
from bot.middlewares.demo_mark import current_chat_language
from storage.models import User as StoredUser

log = logging.getLogger(__name__)

Handler = NextMiddlewareType[TelegramObject]


class HasTimezone(Protocol):
    """What ``user_zone`` reads: a storage ``User`` fits."""

    @property
    def timezone(self) -> str | None: ...


def user_zone(db_user: HasTimezone | None, default: ZoneInfo) -> ZoneInfo:
    """The stored zone of a user, or ``default`` when unset or no longer known."""
    name = db_user.timezone if db_user is not None else None
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown_stored_zone user_id=%s", getattr(db_user, "id", None))
        return default


class LanguageMiddleware(BaseMiddleware):
    """Outer update middleware; runs after the user middleware (reads ``db_user``)."""

    def __init__(self, i18n: I18n, default_zone: ZoneInfo) -> None:
        self.i18n = i18n
        self.default_zone = default_zone

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        db_user: StoredUser | None = data.get("db_user")
        tg_user: User | None = data.get("event_from_user")
        lang = resolve_language(
            db_user.language if db_user is not None else None,
            tg_user.language_code if tg_user else None,
        )
        data["lang"] = lang
        data["t"] = self.i18n.translator(lang)
        data["tz"] = user_zone(db_user, self.default_zone)
        chat: Chat | None = data.get("event_chat")
        token = current_chat_language.set((chat.id, lang) if chat is not None else None)
        try:
            return await handler(event, data)
        finally:
            current_chat_language.reset(token)
