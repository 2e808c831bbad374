"""Driving the outbox sender step by step on a fake clock (no real waiting)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from storage.repositories.outbox import OutboxRepository
from tests.fake_telegram import FakeTelegram
from tests.faults.clock import FakeClock
from tests.outbox_helpers import stored

__all__ = ["copies", "enqueue", "pending", "sender", "stored"]

SF = async_sessionmaker[AsyncSession]


def sender(bot: Bot, sf: SF, clock: FakeClock, **kw: Any) -> OutboxSender:
    """A sender whose rate windows and leases run on ``clock`` (windows wide open: the
    cases here are about faults, not pacing)."""
    options: dict[str, Any] = {
        "clock": clock.now,
        "monotonic": clock.monotonic,
        "per_chat_interval": 0.0,
        "per_chat_margin": 0.0,
        "global_rate": 100_000,
        "backoff_base": 1.0,
        "backoff_cap": 600.0,
        **kw,
    }
    return OutboxSender(bot, sf, **options)


async def enqueue(sf: SF, clock: FakeClock, chat_id: int, text: str) -> None:
    async with sf() as session:
        await OutboxRepository(session).enqueue(chat_id, text, now=clock.now())
        await session.commit()


async def pending(sf: SF) -> int:
    async with sf() as session:
        return await OutboxRepository(session).backlog_count()


def copies(tg: FakeTelegram, chat_id: int) -> Counter[str]:
    """How many times each text reached the chat (the sandbox demo mark cut off)."""
    return Counter((m.text or "").split("\n\n")[0] for m in tg.bot_messages(chat_id))
