"""The Bot API session: aiogram's AiohttpSession, keeping its ``Response[...]`` types alive.

aiogram's ``check_response`` parametrises ``Response[method.__returning__]`` on every call.
pydantic keeps parametrised generics in a ``WeakValueDictionary`` and, when the
parametrisation happens inside a function (not at module level), nothing else refers to the
new class: the next garbage collection drops it and the next call rebuilds it — 5–15 ms of
schema building for ``Response[Message]``, many times per minute under load. The session
holds a strong reference to each type it has used, for as long as the session (and so the
Bot) lives; the dict is bounded by the number of distinct return types of the Bot API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.methods.base import Response, TelegramMethod, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot


class ResponseTypeCache(BaseSession):
    """Mixin for a Bot API session: ``Response[T]`` built once per T for the session's life."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not a module global: each session owns its references and they go with it.
        self.response_types: dict[Any, type[Response[Any]]] = {}

    def response_type(self, returning: Any) -> type[Response[Any]]:
        found = self.response_types.get(returning)
        if found is None:
            found = self.response_types[returning] = Response[returning]
        return found

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        # aiogram parametrises Response itself; with our reference alive, pydantic's
        # cache answers that lookup instead of building the class anew.
        self.response_type(method.__returning__)
        return super().check_response(bot, method, status_code, content)


class TelegramSession(ResponseTypeCache, AiohttpSession):
    """The session the bot talks to Telegram with (see the module docstring)."""
