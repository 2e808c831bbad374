"""Two people open the same invite link at the same moment, handled concurrently by the
production dispatcher (``handle_as_tasks=True``, as aiogram polls by default): exactly one
joins, the other is told the link was used, neither gets an error.

A barrier in front of ``InviteRepository.consume`` holds the first handler until the second
has reached it too, so both consume the code while the other's transaction is open: a
sequential run could never pass the barrier.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Role
from storage.models import User
from storage.repositories.invites import ConsumeStatus, InviteRepository
from tests.bot_fixtures import ADMIN_ID
from tests.fake_telegram import FakeTelegram, run_polling

CODE = "racecode12345"


async def test_two_people_opening_one_link_at_once_only_one_joins(
    fake_tg: FakeTelegram,
    bot: Bot,
    dispatcher: Dispatcher,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with session_factory() as session:
        await InviteRepository(session).create(
            CODE, Role.COORDINATOR, created_by=ADMIN_ID, ttl=timedelta(hours=1)
        )
        await session.commit()

    both_there = asyncio.Barrier(2)
    outcomes: list[ConsumeStatus] = []
    real_consume = InviteRepository.consume

    async def consume_together(self: InviteRepository, *args: Any, **kwargs: Any) -> Any:
        async with asyncio.timeout(10):  # never reached by both: the handling was sequential
            await both_there.wait()
        result = await real_consume(self, *args, **kwargs)
        outcomes.append(result.status)
        return result

    monkeypatch.setattr(InviteRepository, "consume", consume_together)

    first, second = fake_tg.user(555010), fake_tg.user(555011)
    # Both updates are queued before polling starts: one getUpdates batch, two tasks.
    await first.send_command("start", CODE, wait=False)
    await second.send_command("start", CODE, wait=False)
    async with run_polling(dispatcher, bot, handle_as_tasks=True):
        await fake_tg.wait_for_messages(first.id, 1, timeout=20)
        await fake_tg.wait_for_messages(second.id, 1, timeout=20)

    assert sorted(outcomes) == sorted([ConsumeStatus.OK, ConsumeStatus.USED])
    async with session_factory() as session:
        joined = [await session.get(User, u) for u in (first.id, second.id)]
    assert sum(u is not None for u in joined) == 1
    answers = [first.last_bot_message().text or "", second.last_bot_message().text or ""]
    assert sum("уже использована" in a for a in answers) == 1, answers
    assert sum("часовом поясе" in a for a in answers) == 1, answers
    assert not any("извините" in a for a in answers), answers
