"""The Bot API session the bot talks to Telegram with: aiogram's AiohttpSession, cheaper per
request (every handler's answer passes here, so its cost is paid on every update).

``ResponseTypeCache``: aiogram's ``check_response`` parametrises ``Response[method.__returning__]``
on every call; pydantic keeps parametrised generics in a ``WeakValueDictionary`` and, when
the parametrisation happens inside a function (not at module level), nothing else refers to
the new class: the next garbage collection drops it and the next call rebuilds it — 5–15 ms
of schema building for ``Response[Message]``, many times per minute under load. The session
holds a strong reference to each type it has used, for as long as the session (and so the
Bot) lives; the dict is bounded by the number of distinct return types of the Bot API.

``TelegramSession`` sends a request without files as one JSON body (the Bot API takes
``application/json`` for everything but uploads) instead of aiogram's form: no multipart
writer with a random boundary per request, no URL-encoding of every field, nested objects
(reply_markup) encoded once with the rest instead of as JSON strings inside a form. A request
with files goes out as aiogram sends it. Answers: a successful one is parsed with the cached
``Response`` type directly; anything else goes through aiogram's ``check_response``, which
raises the exception it stands for.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiohttp import ClientError
from pydantic import ValidationError

if TYPE_CHECKING:
    from aiogram import Bot

_JSON_HEADERS = {"Content-Type": "application/json"}


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
        response_type = self.response_type(method.__returning__)
        if HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            try:
                data = self.json_loads(content)
                parsed = response_type.model_validate(data, context={"bot": bot})
            except (ValueError, ValidationError):
                pass  # aiogram's path below raises its ClientDecodeError for it
            else:
                if parsed.ok:
                    return cast(Response[TelegramType], parsed)
        # An error (or an answer that does not parse): aiogram parametrises Response itself
        # and, with our reference alive, pydantic's cache answers that lookup.
        return super().check_response(bot, method, status_code, content)


class TelegramSession(ResponseTypeCache, AiohttpSession):
    """The session the bot talks to Telegram with (see the module docstring)."""

    def build_json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> bytes | None:
        """The request as one JSON object; None when it uploads files (multipart then)."""
        files: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # What aiogram's form leaves out: None and empty strings.
            if prepared is None or prepared == "":
                continue
            payload[key] = prepared
        if files:
            return None
        return self.json_dumps(payload).encode()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        body = self.build_json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=_JSON_HEADERS,
                timeout=self.timeout if timeout is None else timeout,  # type: ignore[arg-type]
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
