"""The last gate before the network: every sendMessage / editMessageText of the bot passes
it (a request middleware on the bot's session).

* A send of the outbox sender (marked by ``RequestGate.sending``) takes its rate windows
  here, just before the network, so time spent earlier in the request chain (e.g. the
  demo mark looking up a language) cannot bunch sends up at Telegram's end; they are given
  back (stamped) when the request is over, whatever its outcome.
* Only then does the send's attempt begin (``attempt.SendAttempt``): an in-flight slot, one
  session, the recipient's right and the claim re-checked in it — so no wait for a window
  holds a slot or a connection, and a send whose wait outlasted its claim (a group at
  20/min) is abandoned with ``LeaseLost`` when another sender holds the row now.
* A 429 pauses the chat (or every send) here, before the attempt gives its slot back.
* Any other send (a handler's answer) waits out the pauses a 429 imposed, so a send that
  started before the 429 arrived still respects it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.outbox.attempt import SendAttempt
from bot.outbox.limits import RateLimits, wait_out

# Which gate's sender (if any) is making the current request: its rate windows apply ...
_sending: ContextVar[RequestGate | None] = ContextVar("outbox_sending", default=None)
# ... and the attempt it makes: begun (checks, slot) once the windows granted the send.
_attempt: ContextVar[SendAttempt | None] = ContextVar("outbox_attempt", default=None)


class RequestGate:
    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits

    def install(self, bot: Bot) -> None:
        bot.session.middleware(self)

    @contextmanager
    def sending(self, attempt: SendAttempt) -> Iterator[None]:
        """Requests made inside are ``attempt``'s send: rate windows apply, then it begins."""
        token = _sending.set(self)
        attempt_token = _attempt.set(attempt)
        try:
            yield
        finally:
            _attempt.reset(attempt_token)
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
            while (wait := self.limits.pause_left(chat_id)) > 0:
                await wait_out(wait)
            return await make_request(bot, method)
        windows = await self.limits.acquire(chat_id)
        sent = delivered = False
        try:
            attempt = _attempt.get()
            if attempt is not None:
                # May raise LeaseLost / RecipientRefused: not sent.
                await attempt.begin(functools.partial(self.limits.pause_left, chat_id))
            sent = True
            try:
                response = await make_request(bot, method)
            except TelegramRetryAfter as exc:
                # Paused before the slot is given back: the sends waiting for it see it.
                self.limits.retry_after(chat_id, exc.retry_after)
                raise
            delivered = True
            return response
        finally:
            self.limits.release(windows, sent=sent, delivered=delivered)
