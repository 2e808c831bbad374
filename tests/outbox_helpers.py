"""What the outbox sender's tests share: rows in and out of the outbox, a run to the end,
a client-side log of the sends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository

SF = async_sessionmaker[AsyncSession]


class RequestLog(BaseRequestMiddleware):
    """Client-side record of every send: (method, chat, started, finished, retry_after),
    read on ``monotonic`` (a fake clock, or the loop's on virtual time)."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self.monotonic = monotonic
        self.calls: list[tuple[str, Any, float, float, int | None]] = []

    async def __call__(self, make_request: Any, bot: Bot, method: Any) -> Any:
        started = self.monotonic()
        retry_after = None
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            retry_after = exc.retry_after
            raise
        finally:
            name = type(method).__name__
            self.calls.append(
                (name, getattr(method, "chat_id", None), started, self.monotonic(), retry_after)
            )


async def enqueue(sf: SF, chat_id: int, text: str, **kw: Any) -> None:
    async with sf() as session:
        await OutboxRepository(session).enqueue(chat_id, text, **kw)
        await session.commit()


async def stored(sf: SF) -> list[OutboxMessage]:
    async with sf() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def plain(text: str | None) -> str:
    """The text without the sandbox demo mark."""
    return (text or "").split("\n\n")[0]


async def run_until_drained(sender: OutboxSender, limit: float = 30.0) -> None:
    sender.start()
    sender.wake()
    try:
        await sender.drain(limit)
    finally:
        await sender.stop()
