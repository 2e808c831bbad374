"""Running the real aiogram Dispatcher against the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer

from bot.app.telegram import TelegramSession, allowed_update_types

if TYPE_CHECKING:
    from .server import FakeTelegram


class FakeTelegramSession(TelegramSession):  # the bot's own session, minus the close sleep
    async def close(self) -> None:
        # aiogram sleeps 250 ms after closing to let SSL connections drain; there is no SSL
        # on loopback, and that sleep would add up over hundreds of tests.
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(tg: FakeTelegram, token: str | None = None) -> Bot:
    """An aiogram Bot with parse_mode HTML whose session talks to the fake over HTTP."""
    session = FakeTelegramSession(api=TelegramAPIServer.from_base(tg.url))
    return Bot(token or tg.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


HANDLING_GRACE_S = 5.0  # bounds teardown when a test left a handler hanging


@asynccontextmanager
async def run_polling(
    dp: Dispatcher,
    bot: Bot,
    *,
    handle_as_tasks: bool = False,
    polling_timeout: int = 1,
    **kwargs: Any,
) -> AsyncIterator[asyncio.Task[None]]:
    """Poll in a background task for the duration of the block, then stop cleanly.

    allowed_updates: as the bot's serve_updates asks (bot.app.telegram.allowed_update_types).
    handle_as_tasks=False is what makes FakeTelegram.wait_handled exact: the next getUpdates
    (carrying the confirming offset) is only sent after the previous batch was handled.
    """
    # What the bot asks for in production (aiogram's own default would include
    # aiogram-dialog's internal event, which Telegram refuses).
    kwargs.setdefault("allowed_updates", allowed_update_types(dp))
    started = asyncio.Event()

    async def mark_started() -> None:
        started.set()

    dp.startup.register(mark_started)
    task = asyncio.create_task(
        dp.start_polling(
            bot,
            handle_signals=False,
            handle_as_tasks=handle_as_tasks,
            polling_timeout=polling_timeout,
            **kwargs,
        )
    )
    try:
        # Startup hooks run inside start_polling; wait for them (or for an early crash).
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            task.result()  # re-raise a startup failure here, not as a later timeout
        yield task
    finally:
        dp.startup.handlers[:] = [h for h in dp.startup.handlers if h.callback is not mark_started]
        if not task.done():
            # Updates still being handled (handle_as_tasks) finish first: a block that ends
            # when the answer it awaited arrived may leave its handler one request short
            # (an answerCallbackQuery after the edit), and a fake stopped under it would
            # fail that request (update_failed, "Server disconnected" tracebacks).
            handling = set(dp._handle_update_tasks)
            if handling:
                await asyncio.wait(handling, timeout=HANDLING_GRACE_S)
            await dp.stop_polling()
        await task
