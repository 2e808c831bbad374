"""End-to-end harness for the access flows: the real dispatcher, polling the fake Telegram
Bot API over HTTP, a real SQLite database (migrated), and the sandbox partner API.

``create_dispatcher`` from ``bot.app`` is used when it exists; until the runtime lands, the
same pieces are assembled here the way the contracts describe them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client import PartnerApiClient, StaticTokenProvider
from api_client.sandbox.config import SandboxConfig
from api_client.sandbox.server import SandboxServer
from bot.i18n import I18n
from bot.settings import Settings, load_settings
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from tests.fake_telegram import FakeTelegram, FakeUser, make_bot, run_polling

ADMIN_ID = 1000


@dataclass
class Env:
    tg: FakeTelegram
    bot: Bot
    sandbox: SandboxServer
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    admin: FakeUser

    def user(self, user_id: int, first_name: str = "Анна", language_code: str | None = "ru",
             **kw: Any) -> FakeUser:
        return self.tg.user(user_id, first_name=first_name, language_code=language_code, **kw)


def _build_dispatcher(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    bot: Bot,
) -> Dispatcher:
    try:
        from bot.app import create_dispatcher
    except ImportError:
        pass
    else:
        return create_dispatcher(
            settings=settings, api=api, session_factory=session_factory, i18n=I18n(strict=True)
        )
    from bot.middlewares import setup_middlewares
    from bot.routers import admin_doctors, admin_invites, admin_users, fallback, preferences, start
    from storage.fsm import SqlStorage

    i18n = I18n(strict=True)
    dp = Dispatcher(
        storage=SqlStorage(session_factory),
        settings=settings,
        api=api,
        session_factory=session_factory,
        i18n=i18n,
        is_sandbox=settings.is_sandbox,
    )
    setup_middlewares(
        dp,
        session_factory=session_factory,
        i18n=i18n,
        admin_ids=settings.admin_ids,
        default_zone=settings.default_zone,
        team_chat_id=settings.team_chat_id,
    )
    dp.include_routers(
        start.setup(),
        admin_invites.setup(),
        admin_users.setup(),
        admin_doctors.setup(),
        preferences.setup(),
        fallback.setup(),
    )
    return dp


@pytest.fixture(params=[True], ids=["doctor-routes"])
def doctor_routes(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def env(tmp_path: Path, doctor_routes: bool) -> AsyncIterator[Env]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url)
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    async with (
        FakeTelegram() as tg,
        SandboxServer(SandboxConfig(doctor_routes=doctor_routes)) as sandbox,
    ):
        settings = load_settings(
            {
                "BOT_TOKEN": tg.token,
                "TELEGRAM_API_URL": tg.url,
                "TMAPI_BASE_URL": sandbox.url,
                "TMAPI_ACCESS_TOKEN": "test-token",
                "DATABASE_URL": url,
                "ADMIN_IDS": str(ADMIN_ID),
                "DEFAULT_TIMEZONE": "Europe/Moscow",
                "INVITE_TTL_HOURS": "48",
            }
        )
        bot = make_bot(tg)
        async with PartnerApiClient(sandbox.url, StaticTokenProvider("test-token")) as api:
            dp = _build_dispatcher(settings, api, session_factory, bot)
            async with run_polling(dp, bot):
                admin = tg.user(ADMIN_ID, first_name="Админ", language_code="ru")
                yield Env(tg, bot, sandbox, settings, session_factory, admin)
        await bot.session.close()
    await engine.dispose()
