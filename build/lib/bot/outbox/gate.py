"""The last gate before the network: every sendMessage / editMessageText of the bot passes
it (a request middleware on the bot's session).

* A send of the outbox sender (marked by ``RequestGate.sending``) takes its rate windows
  here, just before the network, so time spent earlier in the request chain (e.g. the
  demo mark looking up a language) cannot bunch sends up at Telegram's end; they are given
  back (stamped) when the request is over, whatever its outcome.
* Not twice: the wait for the windows may have outlasted the row's claim (a group at
  20/min); the claim is re-checked (and extended) right before the network, and the send
  is abandoned with ``LeaseLost`` when another sender holds the row now.
* Any other send (a handler's answer) waits out the pauses a 429 imposed, so a send that
  started before the 429 arrived still respects it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.outbox.limits import RateLimits
from storage.models import OutboxMessage

KeepLease = Callable[[OutboxMessage], Awaitable[bool]]

# Which gate's sender (if any) is making the current request: its rate windows apply ...
_sending: ContextVar[RequestGate | None] = ContextVar("outbox_sending", default=None)
# ... and which row it is sending: the gate re-checks its claim just before the network.
_sending_row: ContextVar[OutboxMessage | None] = ContextVar("outbox_sending_row", default=None)


class LeaseLost(Exception):
    """The row's claim is no longer this sender's: another sender may be sending it."""


class RequestGate:
    def __init__(self, limits: RateLimits, keep_lease: KeepLease) -> None:
        self.limits = limits
        self.keep_lease = keep_lease

    def install(self, bot: Bot) -> None:
        bot.session.middleware(self)

    @contextmanager
    def sending(self, row: OutboxMessage) -> Iterator[None]:
        """Requests made inside are the sender's sends of ``row``: rate windows apply."""
        token = _sending.set(self)
        row_token = _sending_row.set(row)
        try:
            yield
        finally:
            _sending_row.reset(row_token)
            _sending.reset(token)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        # Not narrowed by isinstance: make_request wants the method as it came.
        is_send = isinstance(method, SendMessage | EditMessageText)
        if not is_send:
            return await make_request(bot, method)
        target = getattr(method, "chat_id", None)
        chat_id = target if isinstance(target, int) else None
        if _sending.get() is not self or chat_id is None:
            # A loop, not one sleep: another 429 may extend the pause meanwhile.
            while (wait := self.limits.pause_left(chat_id)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            return await make_request(bot, method)
        windows = await self.limits.acquire(chat_id)
        sent = delivered = False
        try:
            row = _sending_row.get()
            if row is not None and not await self.keep_lease(row):
                raise LeaseLost(row.id)
            sent = True
            response = await make_request(bot, method)
            delivered = True
            return response
        finally:
            self.limits.release(windows, sent=sent, delivered=delivered)
