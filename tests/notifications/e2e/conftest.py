"""End to end: the sandbox fires real GETs at the bot's HTTP listener; the worker, the outbox
sender and the dispatcher (polling the fake Telegram) run as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxServer
from bot.app.runtime import Runtime
from bot.http_server import HealthState, build_http_app
from bot.i18n import I18n
from bot.notifications.runtime import Notifications, build
from bot.settings import Settings
from tests.bot_fixtures import *  # noqa: F403
from tests.bot_fixtures import BotHarness
from tests.fake_telegram import FakeTelegram
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, TEAM_CHAT, Harness


@pytest.fixture
def settings_env() -> dict[str, str]:
    return {"ADMIN_IDS": "1", "TEAM_CHAT_ID": str(TEAM_CHAT)}


@dataclass
class Live:
    tg: FakeTelegram
    bot: Bot
    harness: Harness
    parts: Notifications
    running: BotHarness
    health: HealthState

    @property
    def sandbox(self) -> Any:
        return self.harness.sandbox

    async def card(self) -> int:
        """The card message the wizard would have sent to the coordinator."""
        sent = await self.bot.send_message(COORDINATOR, "card")
        return sent.message_id

    def texts(self, chat_id: int) -> list[str]:
        return [m.content for m in self.tg.bot_messages(chat_id)]


@pytest.fixture
async def live(
    running_bot: BotHarness,
    fake_tg: FakeTelegram,
    bot: Bot,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    sandbox: SandboxServer,
    api: PartnerApiClient,
    i18n: I18n,
) -> AsyncIterator[Live]:
    fake_tg.user(COORDINATOR, first_name="Анна", language_code="ru")
    fake_tg.user(DOCTOR_ACCOUNT, first_name="Doc", language_code="en")
    fake_tg.group(TEAM_CHAT)
    async with AsyncExitStack() as stack:
        health = HealthState(is_sandbox=settings.is_sandbox)
        rt = Runtime(
            settings=settings,
            stack=stack,
            i18n=i18n,
            session_factory=session_factory,
            api=api,
            outbox=running_bot.outbox,
            health=health,
        )
        parts = build(rt)
        app = build_http_app(
            session_factory=session_factory, health=health, extra_routes=[parts.receiver.setup]
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        harness = Harness(
            session_factory=session_factory, sandbox_server=sandbox, api=api, i18n=i18n
        )
        harness.hook_base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        await stack.enter_async_context(parts.worker)
        yield Live(fake_tg, bot, harness, parts, running_bot, health)
