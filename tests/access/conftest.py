"""End-to-end harness for the access flows, on the runtime's shared fixtures: the production
dispatcher (``create_dispatcher``) polling the fake Telegram Bot API over HTTP, a migrated
SQLite database, and the sandbox partner API (with or without its doctor routes).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.sandbox import SandboxConfig, SandboxServer
from bot.settings import Settings
from tests.bot_fixtures import *  # noqa: F403
from tests.bot_fixtures import ADMIN_ID, BotHarness
from tests.fake_telegram import FakeTelegram, FakeUser


@dataclass
class Env:
    tg: FakeTelegram
    bot: Bot
    sandbox: SandboxServer
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    admin: FakeUser

    def user(
        self, user_id: int, first_name: str = "Анна", language_code: str | None = "ru", **kw: Any
    ) -> FakeUser:
        return self.tg.user(user_id, first_name=first_name, language_code=language_code, **kw)


@pytest.fixture(params=[True], ids=["doctor-routes"])
def doctor_routes(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def sandbox(doctor_routes: bool) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None, doctor_routes=doctor_routes)) as server:
        yield server


@pytest.fixture
def env(running_bot: BotHarness, sandbox: SandboxServer) -> Env:
    admin = running_bot.fake_tg.user(ADMIN_ID, first_name="Админ", language_code="ru")
    return Env(
        running_bot.fake_tg,
        running_bot.bot,
        sandbox,
        running_bot.settings,
        running_bot.session_factory,
        admin,
    )


_LINK_RE = re.compile(r"https://t\.me/test_bot\?start=([A-Za-z0-9_-]+)")


def invite_code(text: str) -> str:
    match = _LINK_RE.search(text)
    assert match, f"no invite link in {text!r}"
    return match.group(1)


async def join(
    env: Env,
    user_id: int,
    *,
    doctor_id: int | None = None,
    first_name: str = "Ольга",
    language_code: str = "ru",
    city: str | None = None,
) -> FakeUser:
    """Admin invites, the user opens the link and picks a city: a member in one call."""
    args = f"doctor {doctor_id}" if doctor_id else "coordinator"
    await env.admin.send_command("invite", args)
    code = invite_code(env.admin.last_bot_message().text)
    member = env.user(user_id, first_name=first_name, language_code=language_code)
    await member.send_command("start", code)
    await member.press(city or ("Москва" if language_code == "ru" else "Moscow"))
    return member
