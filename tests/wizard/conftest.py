"""End-to-end harness of the /start_callback wizard: the production dispatcher polling the
fake Telegram Bot API over HTTP, a migrated SQLite database, and the sandbox partner API
over HTTP. ``Env.restart()`` replaces the dispatcher (same DB) as a bot restart would.

The wizard (workflow data ``clock``) and the sandbox (``SandboxConfig.now``) share one clock,
``Env.clock``: the wall clock, or a fixed "today" when a test parametrizes the ``today``
fixture with ``tests.fixed_days.FIXED_TODAYS``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiogram import Bot, Dispatcher, Router
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client import PartnerApiClient, StaticTokenProvider
from api_client.sandbox.config import SandboxConfig
from api_client.sandbox.server import SandboxServer
from bot.app.dispatcher import create_dispatcher
from bot.i18n import I18n
from bot.settings import Settings, load_settings
from storage.enums import Role
from storage.models import Consultation, OutboxMessage, StatusEvent, User
from storage.repositories.users import UserRepository
from tests.bot_fixtures import *  # noqa: F403  (db_url, engine, session_factory)
from tests.bot_fixtures import (
    assert_spec_kept,
    include_test_routers,
    no_second_callback_answer,  # noqa: F401  (autouse)
)
from tests.fake_telegram import FakeTelegram, FakeUser, make_bot, run_polling
from tests.fixed_days import FixedClock

ADMIN_ID = 1000
SECOND_ADMIN_ID = 1001  # in ADMIN_IDS too: admin alerts go to ADMIN_IDS only
COORDINATOR_ID = 2000  # Europe/Moscow (the default zone)
NSK_COORDINATOR_ID = 3000  # Asia/Novosibirsk
EN_COORDINATOR_ID = 4000


@dataclass
class Env:
    tg: FakeTelegram
    bot: Bot
    sandbox_server: SandboxServer
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    stack: AsyncExitStack
    # The wizard's clock (middleware data "clock") and the sandbox's (its "past" check).
    clock: FixedClock
    wakeups: list[int] = field(default_factory=list)
    dp: Dispatcher | None = None
    # Test-only routers (e.g. a command starting the wizard prefilled), before fallback.
    test_routers: list[Callable[[], Router]] = field(default_factory=list)
    handle_as_tasks: bool = False  # True: updates of one batch are handled concurrently

    @property
    def sandbox(self) -> Any:
        return self.sandbox_server.sandbox

    def user(self, user_id: int = COORDINATOR_ID, language_code: str = "ru") -> FakeUser:
        return self.tg.user(user_id, first_name="Коорд", language_code=language_code)

    @property
    def clock_offset(self) -> timedelta:
        return self.clock.offset

    @clock_offset.setter
    def clock_offset(self, offset: timedelta) -> None:
        """Move the clock (wizard and sandbox) to let a chosen time pass."""
        self.clock.offset = offset

    def now(self) -> datetime:
        return self.clock()

    def build_dispatcher(self) -> Dispatcher:
        dp = create_dispatcher(
            settings=self.settings,
            api=self.api,
            session_factory=self.session_factory,
            i18n=I18n(strict=True),
            outbox_wakeup=lambda: self.wakeups.append(1),
        )
        dp["clock"] = self.now
        return include_test_routers(dp, (make() for make in self.test_routers))

    async def start_polling(self) -> None:
        self.dp = self.build_dispatcher()
        self._polling = AsyncExitStack()
        await self._polling.enter_async_context(
            run_polling(self.dp, self.bot, handle_as_tasks=self.handle_as_tasks)
        )

    async def stop_polling(self) -> None:
        await self._polling.aclose()

    async def restart(self) -> None:
        """Stop the bot and start a new dispatcher on the same database."""
        await self.stop_polling()
        await self.start_polling()

    async def consultations(self) -> list[Consultation]:
        async with self.session_factory() as session:
            return list(await session.scalars(select(Consultation).order_by(Consultation.id)))

    async def events(self, consultation_id: int) -> list[StatusEvent]:
        async with self.session_factory() as session:
            return list(
                await session.scalars(
                    select(StatusEvent).where(StatusEvent.consultation_id == consultation_id)
                )
            )

    async def outbox(self) -> list[OutboxMessage]:
        async with self.session_factory() as session:
            return list(await session.scalars(select(OutboxMessage)))

    def start_requests(self) -> list[Any]:
        return self.sandbox.requests_for("start")


async def _add_users(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        repo = UserRepository(session)
        await repo.upsert(COORDINATOR_ID, Role.COORDINATOR, display_name="Коорд")
        await repo.upsert(NSK_COORDINATOR_ID, Role.COORDINATOR, display_name="Новосиб")
        await repo.upsert(EN_COORDINATOR_ID, Role.COORDINATOR, display_name="Eng")
        await repo.set_timezone(NSK_COORDINATOR_ID, "Asia/Novosibirsk")
        await repo.set_language(EN_COORDINATOR_ID, "en")
        await session.commit()
        assert await session.get(User, COORDINATOR_ID) is not None


@pytest.fixture(params=[True], ids=["doctor-routes"])
def doctor_routes(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def today() -> datetime | None:
    """The moment the test's clock starts at; None: the wall clock. Date-sensitive tests
    parametrize it: ``@pytest.mark.parametrize("today", FIXED_TODAYS)``."""
    return None


@pytest.fixture
async def env(
    db_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    doctor_routes: bool,
    today: datetime | None,
) -> AsyncIterator[Env]:
    await _add_users(session_factory)
    clock = FixedClock(today)
    async with AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram())
        sandbox = await stack.enter_async_context(
            # fault_hold: a "timeout" fault holds the answer past the client's 1 s timeout.
            SandboxServer(SandboxConfig(doctor_routes=doctor_routes, fault_hold=3.0, now=clock))
        )
        settings = load_settings(
            {
                "BOT_TOKEN": tg.token,
                "TELEGRAM_API_URL": tg.url,
                "TMAPI_BASE_URL": sandbox.url,
                "TMAPI_ACCESS_TOKEN": "test-token",
                "DATABASE_URL": db_url,
                "ADMIN_IDS": f"{ADMIN_ID},{SECOND_ADMIN_ID}",
                "DEFAULT_TIMEZONE": "Europe/Moscow",
                "PUBLIC_URL": "http://127.0.0.1:8080",
            }
        )
        bot = make_bot(tg)
        stack.push_async_callback(bot.session.close)
        api = await stack.enter_async_context(
            PartnerApiClient(
                sandbox.url,
                StaticTokenProvider("test-token"),
                timeout=httpx.Timeout(1.0, connect=1.0),
            )
        )
        env = Env(tg, bot, sandbox, settings, session_factory, api, stack, clock)
        await env.start_polling()
        try:
            yield env
        finally:
            await env.stop_polling()
        assert_spec_kept(tg)
