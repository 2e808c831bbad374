"""Reusable fixtures for tests that drive the real bot (import them into your conftest).

    # tests/<yours>/conftest.py
    from tests.bot_fixtures import *  # noqa: F403  (or import the names you need)

Fixtures (all function-scoped, offline, on 127.0.0.1):
  db_url           str       a temp SQLite file URL, upgraded by the migrations
  engine           AsyncEngine on db_url (disposed after the test)
  session_factory  async_sessionmaker(expire_on_commit=False)
  sandbox          api_client.sandbox.SandboxServer (pace=None: statuses move only when
                   the test calls sandbox.sandbox.set_status(...))
  fake_tg          tests.fake_telegram.FakeTelegram
  i18n             bot.i18n.I18n
  settings_env     dict of env values the `settings` fixture is built from; override it in
                   your conftest or module to change settings (ADMIN_IDS, TEAM_CHAT_ID, …)
  settings         bot.settings.Settings: BOT_TOKEN = the fake's token, TELEGRAM_API_URL =
                   the fake, DATABASE_URL = db_url, TMAPI_BASE_URL empty (sandbox mode, so the
                   demo mark is on), ADMIN_IDS = "1" (ADMIN_ID)
  api              PartnerApiClient talking to `sandbox` over HTTP
  bot              aiogram Bot talking to `fake_tg` (parse_mode HTML, demo mark installed in
                   sandbox mode)
  outbox           OutboxSender for `bot`, re-checking recipients with ADMIN_IDS (not
                   running; call .start()/.stop() or use `running_bot`)
  routers_for_test test-only routers (a /boom command, …) put into the production
                   dispatcher just before `fallback` (override to add yours; production
                   routers are always there: never list them)
  dispatcher       the production Dispatcher from create_dispatcher(...), as run_bot builds it
  running_bot      a BotHarness: the dispatcher polling the fake (handle_as_tasks=False,
                   so fake_tg.wait_handled is exact) and the outbox sender running; stopped
                   after the test

`make_harness(...)` is the same as an async context manager, for tests that need two
dispatchers in sequence (a restart) on one database.

`run_app(settings)` runs the whole production start-up (bot/app/runtime.py DEFAULT_STEPS:
the database, partner API, bot, outbox, scheduler, notifications, HTTP listener, menus) and
polls until exit; it yields the `Runtime`. For what only the composed app has
(the one scheduler, start-up reads of stored state); a second `run_app` on the same
database is a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api_client import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxConfig, SandboxServer
from bot.app.dispatcher import create_dispatcher
from bot.app.runtime import DEFAULT_STEPS, Runtime
from bot.app.telegram import install_demo_mark, serve_updates
from bot.http_server import HealthState
from bot.i18n import I18n
from bot.outbox import OutboxSender
from bot.settings import Settings, load_settings
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from tests.fake_telegram import FakeTelegram, make_bot, run_polling

ADMIN_ID = 1

__all__ = [
    "ADMIN_ID",
    "BotHarness",
    "api",
    "app_settings",
    "assert_spec_kept",
    "bot",
    "db_url",
    "dispatcher",
    "engine",
    "fake_tg",
    "i18n",
    "include_test_routers",
    "make_harness",
    "outbox",
    "routers_for_test",
    "run_app",
    "running_bot",
    "sandbox",
    "session_factory",
    "settings",
    "settings_env",
]


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url)
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None)) as server:
        yield server


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        yield tg
    assert_spec_kept(tg)


def assert_spec_kept(tg: FakeTelegram) -> None:
    """Everything the bot sent is what the Bot API specification allows (validation.py)."""
    refused = [f"{c.method} {c.params}: {c.description}" for c in tg.spec_refusals]
    assert not refused, "requests the Bot API refuses:\n" + "\n".join(refused)


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n(strict=True)


@pytest.fixture
def settings_env() -> dict[str, str]:
    return {"ADMIN_IDS": str(ADMIN_ID)}


@pytest.fixture
def settings(fake_tg: FakeTelegram, db_url: str, settings_env: dict[str, str]) -> Settings:
    return load_settings(
        {
            "BOT_TOKEN": fake_tg.token,
            "TELEGRAM_API_URL": fake_tg.url,
            "DATABASE_URL": db_url,
            "HTTP_PORT": "0",
            **settings_env,
        }
    )


@pytest.fixture
async def api(sandbox: SandboxServer) -> AsyncIterator[PartnerApiClient]:
    async with PartnerApiClient(sandbox.url, StaticTokenProvider("test-token")) as client:
        yield client


def build_bot(
    fake_tg: FakeTelegram,
    settings: Settings,
    i18n: I18n,
    session_factory: async_sessionmaker[AsyncSession],
) -> Bot:
    bot = make_bot(fake_tg)
    if settings.is_sandbox:
        install_demo_mark(bot, i18n, session_factory)
    return bot


@pytest.fixture
async def bot(
    fake_tg: FakeTelegram,
    settings: Settings,
    i18n: I18n,
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Bot]:
    b = build_bot(fake_tg, settings, i18n, session_factory)
    yield b
    await b.session.close()


@pytest.fixture
def outbox(
    bot: Bot, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> OutboxSender:
    return OutboxSender(
        bot,
        session_factory,
        team_chat_id=settings.team_chat_id,
        admin_ids=settings.admin_ids,  # rows with an audience are re-checked at send time
    )


@pytest.fixture
def routers_for_test() -> list[Router]:
    return []


def include_test_routers(dp: Dispatcher, routers: Iterable[Router]) -> Dispatcher:
    """Test-only routers on a production dispatcher, in front of ``fallback`` (which would
    answer their commands and buttons as unknown); production's own order is untouched."""
    at = [router.name for router in dp.sub_routers].index("fallback")
    for router in routers:
        dp.include_router(router)  # sets the parent; appended after aiogram-dialog's router
        dp.sub_routers.remove(router)
        dp.sub_routers.insert(at, router)
        at += 1
    return dp


def build_dispatcher(
    settings: Settings,
    api: Any,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    outbox: OutboxSender,
    routers_for_test: Sequence[Router] = (),
    **dispatcher_kwargs: Any,
) -> Dispatcher:
    """The production dispatcher, its outbox woken by ``outbox``."""
    dp = create_dispatcher(
        settings=settings,
        api=api,
        session_factory=session_factory,
        i18n=i18n,
        outbox_wakeup=outbox.wake,
        health=HealthState(is_sandbox=settings.is_sandbox),
        outbox=outbox,
        **dispatcher_kwargs,
    )
    return include_test_routers(dp, routers_for_test)


@pytest.fixture
def dispatcher(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    outbox: OutboxSender,
    routers_for_test: list[Router],
) -> Dispatcher:
    return build_dispatcher(settings, api, session_factory, i18n, outbox, routers_for_test)


@dataclass
class BotHarness:
    fake_tg: FakeTelegram
    bot: Bot
    dispatcher: Dispatcher
    outbox: OutboxSender
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    api: Any


@asynccontextmanager
async def make_harness(
    *,
    fake_tg: FakeTelegram,
    settings: Settings,
    api: Any,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    routers_for_test: Sequence[Router] = (),
    **dispatcher_kwargs: Any,
) -> AsyncIterator[BotHarness]:
    """A bot (own Bot session, dispatcher, outbox sender) polling the fake until exit."""
    bot = build_bot(fake_tg, settings, i18n, session_factory)
    sender = OutboxSender(
        bot, session_factory, team_chat_id=settings.team_chat_id, admin_ids=settings.admin_ids
    )
    dp = build_dispatcher(
        settings, api, session_factory, i18n, sender, routers_for_test, **dispatcher_kwargs
    )
    sender.start()
    try:
        async with run_polling(dp, bot):
            yield BotHarness(fake_tg, bot, dp, sender, settings, session_factory, api)
    finally:
        await sender.stop()
        await bot.session.close()


@pytest.fixture
async def running_bot(
    fake_tg: FakeTelegram,
    bot: Bot,
    dispatcher: Dispatcher,
    outbox: OutboxSender,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    api: PartnerApiClient,
) -> AsyncIterator[BotHarness]:
    outbox.start()
    try:
        async with run_polling(dispatcher, bot):
            yield BotHarness(fake_tg, bot, dispatcher, outbox, settings, session_factory, api)
    finally:
        await outbox.stop()


def app_settings(fake_tg: FakeTelegram, db_url: str, **env: str) -> Settings:
    """Settings for `run_app` against `fake_tg` on `db_url` (ADMIN_IDS = ADMIN_ID, any free
    HTTP port); ``env`` adds or overrides variables (TEAM_CHAT_ID=…, TMAPI_BASE_URL=…)."""
    return load_settings(
        {
            "BOT_TOKEN": fake_tg.token,
            "TELEGRAM_API_URL": fake_tg.url,
            "DATABASE_URL": db_url,
            "HTTP_PORT": "0",
            "ADMIN_IDS": str(ADMIN_ID),
            **{k.upper(): v for k, v in env.items()},
        }
    )


@asynccontextmanager
async def run_app(settings: Settings, *, i18n: I18n | None = None) -> AsyncIterator[Runtime]:
    """The production start-up (as `run_bot`, without signals or log set-up), polling the
    fake Telegram of `settings` until exit; then everything stops as in production."""
    async with AsyncExitStack() as stack:
        rt = Runtime(settings=settings, stack=stack, i18n=i18n or I18n())
        for step in DEFAULT_STEPS:
            await step(rt)
        serving = asyncio.create_task(serve_updates(rt))
        try:
            yield rt
        finally:
            rt.stop()
            await serving


@pytest.fixture(autouse=True)
def no_second_callback_answer(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every press is answered once: early answers are recorded (bot/dialogs/answered.py),
    so aiogram-dialog never tries again and logs "Cannot answer callback".

    Autouse, and not in ``__all__``: a dialog suite imports it by name into its conftest to
    check all its tests.
    """
    caplog.set_level(logging.WARNING, logger="aiogram_dialog")
    yield
    late = [r.getMessage() for r in caplog.records if "Cannot answer callback" in r.getMessage()]
    assert late == []
