from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from tests.fake_telegram import FakeTelegram, make_bot, run_polling

from .echo_bot import Seen, create_dispatcher


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(tg)
    yield bot
    await bot.session.close()


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
async def polling(tg: FakeTelegram, bot: Bot, seen: Seen) -> AsyncIterator[FakeTelegram]:
    async with run_polling(create_dispatcher(seen), bot):
        yield tg
