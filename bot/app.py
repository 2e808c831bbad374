"""Composition: the production Dispatcher (``create_dispatcher``) and the process (``run_bot``).

Router order (first match wins):
  1. ``errors`` (bot/routers/errors.py; only ``errors`` events)
  2. access routers, imported by name from ``ROUTER_MODULES`` (missing ones are skipped with
     a warning): start, admin_invites, admin_users, admin_doctors, preferences
  3. ``extra_routers`` (wizard, lists, notifications buttons, dialogs…), in the given order
  4. ``fallback`` (bot/routers/fallback.py): /help, unknown command/text, stale buttons
aiogram-dialog is set up on the Dispatcher after that.

A router module exposes ``setup() -> Router`` (a fresh router per dispatcher) or a
module-level ``router``; a module-level router already attached to an earlier dispatcher
(tests build many) is detached first.

``run_bot`` is a list of small steps over a ``Runtime`` sharing one ``AsyncExitStack``: each
step starts one thing and pushes how to stop it. Optional modules named in
``COMPONENT_MODULES`` join without editing this file: ``configure(rt)`` runs before the
dispatcher and HTTP app are built (append to ``rt.extra_routers``, ``rt.http_routes``,
``rt.workflow_data``), ``async start(rt)`` after they run (start tasks, push their stop onto
``rt.stack``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram_dialog import setup_dialogs
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.dialogs import answered
from bot.i18n import I18n
from bot.middlewares import setup_commit_before_state_save, setup_middlewares
from bot.settings import ConfigError, Settings
from bot.telegram_session import TelegramSession

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

ROUTER_MODULES: tuple[str, ...] = (
    "bot.routers.start",
    "bot.routers.admin_invites",
    "bot.routers.admin_users",
    "bot.routers.admin_doctors",
    "bot.routers.preferences",
    "bot.routers.cancel",  # before the dialogs, whose inputs would take "/cancel" as text
    "bot.routers.consultations",
)

# Optional runtime components (configure(rt) / async start(rt)); missing ones are skipped.
COMPONENT_MODULES: tuple[str, ...] = (
    "bot.notifications.runtime",
    "bot.wizard_runtime",
    "bot.scheduler",
)

WEBHOOK_PATH = "/telegram/webhook"
REDIS_TIMEOUT = 5.0  # seconds: connect, each command, and the start-up ping


# --------------------------------------------------------------------------- dispatcher


def _import_optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # the module itself (or its package) is not there yet
        raise


def _detached(router: Router) -> Router:
    if router.parent_router is not None:
        parent = router.parent_router
        with contextlib.suppress(ValueError):
            parent.sub_routers.remove(router)
        router._parent_router = None  # a module-level router reused by a new dispatcher
    return router


def router_from_module(module: ModuleType) -> Router | None:
    setup = getattr(module, "setup", None)
    if callable(setup):
        router = setup()
        if isinstance(router, Router):
            return router
    router = getattr(module, "router", None)
    return _detached(router) if isinstance(router, Router) else None


def load_routers(modules: Iterable[str] = ROUTER_MODULES) -> list[Router]:
    routers = []
    for name in modules:
        module = _import_optional(name)
        if module is None:
            log.warning("router_missing module=%s", name)
            continue
        router = router_from_module(module)
        if router is None:
            log.warning("router_not_exported module=%s", name)
            continue
        routers.append(router)
    return routers


def redis_client(url: str) -> Redis:
    """A client for REDIS_URL (no I/O yet); timeouts so a silent server fails updates, not hangs."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)


def redis_fsm(redis: Redis, settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """FSM storage and event isolation over one Redis client.

    Destiny in the key keeps aiogram-dialog's stacks apart from the plain FSM state; the bot
    id keeps two bots (staging and production) on one Redis database apart. The TTL
    is the retention period: wizard drafts hold patient data, and the retention job only
    purges the database's conversation rows (bot/jobs/retention.py).
    """
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisStorage

    ttl = timedelta(days=settings.retention_days)
    storage = RedisStorage(
        redis,
        key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
        state_ttl=ttl,
        data_ttl=ttl,
    )
    return storage, storage.create_isolation()


def build_fsm(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when REDIS_URL is set (replicas share state and locks), else the database.

    ``run_bot`` passes its own checked client (start_redis); this path is for dispatchers
    built alone (tests), whose shutdown closes the client through ``storage.close()``.
    """
    if settings.redis_url:
        return redis_fsm(redis_client(settings.redis_url), settings)
    from bot.fsm_storage import SqlStorage

    return SqlStorage(session_factory), SimpleEventIsolation()


def create_dispatcher(
    *,
    settings: Settings,
    api: Any,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    outbox_wakeup: Callable[[], None] | None = None,
    extra_routers: Sequence[Router] = (),
    router_modules: Iterable[str] = ROUTER_MODULES,
    **workflow_data: Any,
) -> Dispatcher:
    """The production dispatcher; tests build it the same way (see tests/bot_fixtures.py).

    Handler data from here: settings, api, session_factory, i18n, outbox_wakeup, is_sandbox,
    plus ``workflow_data`` (e.g. ``health``, ``outbox``); the middlewares add session,
    db_user, user, t, lang, tz, is_stranger.
    """
    if storage is None:
        storage, default_isolation = build_fsm(settings, session_factory)
        events_isolation = events_isolation or default_isolation
    dp = Dispatcher(
        storage=storage,
        events_isolation=events_isolation or SimpleEventIsolation(),
        settings=settings,
        api=api,
        session_factory=session_factory,
        i18n=i18n,
        outbox_wakeup=outbox_wakeup or _no_wakeup,
        is_sandbox=settings.is_sandbox,
        **workflow_data,
    )
    setup_middlewares(
        dp,
        session_factory=session_factory,
        i18n=i18n,
        admin_ids=settings.admin_ids,
        default_zone=settings.default_zone,
        team_chat_id=settings.team_chat_id,
    )
    from bot.routers import errors, fallback

    dp.include_router(errors.setup())
    for router in load_routers(router_modules):
        dp.include_router(router)
    for router in extra_routers:
        dp.include_router(_detached(router))
    dp.include_router(fallback.setup())
    # Its own isolation object: dialog stacks lock on their own keys.
    setup_dialogs(
        dp, events_isolation=_dialog_isolation(dp, settings), message_manager=answered.install(dp)
    )
    setup_commit_before_state_save(dp)
    return dp


def _dialog_isolation(dp: Dispatcher, settings: Settings) -> BaseEventIsolation:
    if settings.redis_url:
        storage = dp.fsm.storage
        create = getattr(storage, "create_isolation", None)
        if callable(create):
            isolation: BaseEventIsolation = create()
            return isolation
    return SimpleEventIsolation()


def _no_wakeup() -> None:
    return None


# --------------------------------------------------------------------------- the process


def configure_logging(level: str) -> None:
    """key=value lines; messages carry ids only (never names, phones, tokens)."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        force=True,
    )
    # httpx logs full URLs at INFO (query strings may hold ids we do not want per request).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


@dataclass
class Runtime:
    settings: Settings
    stack: AsyncExitStack
    i18n: I18n = field(default_factory=I18n)
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    engine: AsyncEngine | None = None
    session_factory: async_sessionmaker[AsyncSession] | None = None
    redis: Redis | None = None  # when REDIS_URL is set: the process's one Redis client
    fsm: tuple[BaseStorage, BaseEventIsolation] | None = None  # over ``redis``
    sandbox: Any = None  # api_client.sandbox.SandboxServer in sandbox mode
    api_base_url: str = ""
    http: httpx.AsyncClient | None = None
    api: Any = None  # PartnerApiClient
    bot: Bot | None = None
    dp: Dispatcher | None = None
    outbox: Any = None  # OutboxSender
    health: Any = None  # HealthState
    http_app: web.Application | None = None
    http_port: int | None = None  # the bound port (HTTP_PORT=0 picks a free one)
    extra_routers: list[Router] = field(default_factory=list)
    http_routes: list[Callable[[web.Application], None]] = field(default_factory=list)
    workflow_data: dict[str, Any] = field(default_factory=dict)
    components: list[ModuleType] = field(default_factory=list)

    def require(self, name: str) -> Any:
        value = getattr(self, name)
        if value is None:
            raise RuntimeError(f"runtime step order: {name} is not started yet")
        return value

    def stop(self) -> None:
        self.stop_event.set()


Step = Callable[[Runtime], Awaitable[None]]


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]


async def check_database(url: str) -> None:
    """Open (for SQLite: create) the database once, so a path that cannot be created, a
    server that does not answer or refused credentials stop the start in one line naming
    DATABASE_URL, before the migrations run (their own errors stay real errors)."""
    from sqlalchemy.exc import DBAPIError

    from storage.db import create_engine

    try:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        finally:
            await engine.dispose()
    except OSError as exc:  # the SQLite directory, or the server's address
        why = exc.strerror or str(exc)
        raise ConfigError(
            f"DATABASE_URL: the database cannot be opened ({type(exc).__name__}: "
            f"{_first_line(why)})"
        ) from None
    except DBAPIError as exc:
        orig = exc.orig if exc.orig is not None else exc
        raise ConfigError(
            f"DATABASE_URL: the database cannot be opened ({type(orig).__name__}: "
            f"{_first_line(str(orig))})"
        ) from None


async def migrate_database(url: str) -> None:
    from storage.migrate import upgrade

    await check_database(url)
    await upgrade(url)


async def start_database(rt: Runtime) -> None:
    from storage.db import create_engine, create_session_factory

    await migrate_database(rt.settings.database_url)
    rt.engine = create_engine(rt.settings.database_url)
    rt.stack.push_async_callback(rt.engine.dispose)
    rt.session_factory = create_session_factory(rt.engine)
    log.info("database_ready")


def _redis_where(url: str) -> str:
    """host:port/db or the socket path: never the password an operator put in the URL."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"  # the port: validated


async def start_redis(rt: Runtime) -> None:
    """One Redis client for the FSM storage and both event isolations, pinged now so a wrong
    or unreachable REDIS_URL stops the start with one line instead of failing every update."""
    from redis.exceptions import RedisError

    url = rt.settings.redis_url
    if not url:
        return
    client = redis_client(url)
    rt.stack.push_async_callback(client.aclose)
    try:
        await asyncio.wait_for(client.ping(), REDIS_TIMEOUT)
    except (RedisError, OSError, TimeoutError) as exc:
        raise ConfigError(
            f"REDIS_URL: Redis at {_redis_where(url)} does not answer ({type(exc).__name__})"
        ) from None
    rt.redis = client
    rt.fsm = redis_fsm(client, rt.settings)
    log.info("redis_ready where=%s", _redis_where(url))


async def load_stored_settings(rt: Runtime) -> None:
    """What the bot learnt while running wins over the environment, like the token pair:
    the team group's new id after its migration to a supergroup (bot/outbox_sender.py)."""
    from storage.repositories.app_state import AppStateRepository

    configured = rt.settings.team_chat_id
    if configured is None:
        return
    async with rt.require("session_factory")() as session:
        current = await AppStateRepository(session).migrated_chat(configured)
    if current != configured:
        log.warning(
            "team_chat_id_from_storage configured=%s stored=%s (the group migrated)",
            configured, current,
        )
        rt.settings = rt.settings.model_copy(update={"team_chat_id": current})


async def start_sandbox(rt: Runtime) -> None:
    from bot.http_server import HealthState

    rt.health = HealthState(is_sandbox=rt.settings.is_sandbox)
    if not rt.settings.is_sandbox:
        rt.api_base_url = rt.settings.tmapi_base_url
        return
    from api_client.sandbox import SandboxConfig, SandboxServer

    pace = rt.settings.sandbox_pace_seconds or None
    rt.sandbox = await rt.stack.enter_async_context(SandboxServer(SandboxConfig(pace=pace)))
    rt.api_base_url = rt.sandbox.url
    log.info("sandbox_started url=%s pace=%s", rt.sandbox.url, pace)


async def start_partner_api(rt: Runtime) -> None:
    from api_client import OAuthTokenProvider, StaticTokenProvider, TokenPair
    from api_client.client import PartnerApiClient, PhoneFormField
    from storage.repositories.tokens import TokenRepository

    settings = rt.settings
    session_factory = rt.require("session_factory")
    rt.http = await rt.stack.enter_async_context(httpx.AsyncClient(timeout=15.0))
    async with session_factory() as session:
        row = await TokenRepository(session).get()
    pair: TokenPair | None = None
    if row is not None:  # the stored pair wins: it is the newest refresh
        pair = TokenPair(row.access_token, row.refresh_token, row.expires_at)
    elif settings.tmapi_access_token is not None:
        refresh = settings.tmapi_refresh_token
        pair = TokenPair(
            settings.tmapi_access_token.get_secret_value(),
            refresh.get_secret_value() if refresh else None,
        )
    provider: Any
    if pair is None:
        if not settings.is_sandbox:
            raise ConfigError(
                "TMAPI_ACCESS_TOKEN is not set and no token pair is stored: "
                "run `python -m bot partner-login` or set TMAPI_ACCESS_TOKEN"
            )
        provider = StaticTokenProvider("sandbox")
    elif pair.refresh_token and settings.tmapi_auth_url:

        async def store(new_pair: TokenPair) -> None:
            async with session_factory() as session:
                await TokenRepository(session).save(new_pair)
                await session.commit()

        from bot.jobs.token_refresh import TokenRefresher

        # Every refresh (on a 403 or the scheduled one) locks the stored row (issue 8).
        refresher = TokenRefresher(session_factory, rt.http, settings, rt.i18n)
        provider = OAuthTokenProvider(
            settings.tmapi_auth_url, settings.tmapi_client_id, pair, http=rt.http,
            on_refresh=store, refresher=refresher,
        )
        rt.workflow_data["token_refresher"] = refresher
        rt.workflow_data["token_provider"] = provider
    else:
        provider = StaticTokenProvider(pair.access_token)
    rt.api = await rt.stack.enter_async_context(
        PartnerApiClient(
            rt.api_base_url,
            provider,
            max_url_length=settings.max_url_length,
            phone_form=PhoneFormField(settings.tmapi_phone_form),
        )
    )


def make_bot(settings: Settings, session: AiohttpSession | None = None) -> Bot:
    session = session or TelegramSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def install_demo_mark(
    bot: Bot, i18n: I18n, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from bot.middlewares.demo_mark import DemoMarkMiddleware, stored_language_lookup

    bot.session.middleware(DemoMarkMiddleware(i18n, stored_language_lookup(session_factory)))


async def _identity(bot: Bot, settings: Settings) -> Any:
    """getMe, with the two ways an operator gets it wrong turned into one line each."""
    from aiogram.exceptions import (
        TelegramNetworkError,
        TelegramNotFound,
        TelegramUnauthorizedError,
    )

    url = settings.telegram_api_url
    try:
        return await bot.me()
    except TelegramUnauthorizedError:
        raise ConfigError(
            "BOT_TOKEN was refused by Telegram (401 Unauthorized): "
            "copy the token from @BotFather again"
        ) from None
    except TelegramNotFound:  # what Telegram answers a token of the wrong shape
        raise ConfigError(
            "BOT_TOKEN was refused by Telegram (404 Not Found): copy the token from @BotFather "
            f"again, or check that TELEGRAM_API_URL {url} is a Bot API server"
        ) from None
    except TelegramNetworkError as exc:
        # aiogram's message names the host only; the token (in the path) is masked anyway.
        why = _first_line(exc.message).replace(settings.bot_token.get_secret_value(), "***")
        raise ConfigError(f"TELEGRAM_API_URL {url} is unreachable ({why})") from None


async def start_bot(rt: Runtime) -> None:
    rt.bot = make_bot(rt.settings)
    rt.stack.push_async_callback(rt.bot.session.close)
    if rt.settings.is_sandbox:
        install_demo_mark(rt.bot, rt.i18n, rt.require("session_factory"))
    me = await _identity(rt.bot, rt.settings)
    log.info("bot_identity bot_id=%s username=%s", me.id, me.username)


async def create_outbox(rt: Runtime) -> None:
    from bot.outbox import OutboxSender

    rt.outbox = OutboxSender(
        rt.require("bot"), rt.require("session_factory"), team_chat_id=rt.settings.team_chat_id
    )


async def configure_components(rt: Runtime) -> None:
    for name in COMPONENT_MODULES:
        module = _import_optional(name)
        if module is None:
            continue
        rt.components.append(module)
        configure = getattr(module, "configure", None)
        if configure is not None:
            result = configure(rt)
            if inspect.isawaitable(result):
                await result


async def build_dispatcher(rt: Runtime) -> None:
    storage, isolation = rt.fsm or (None, None)
    rt.dp = create_dispatcher(
        settings=rt.settings,
        storage=storage,
        events_isolation=isolation,
        api=rt.require("api"),
        session_factory=rt.require("session_factory"),
        i18n=rt.i18n,
        outbox_wakeup=rt.outbox.wake if rt.outbox is not None else None,
        extra_routers=rt.extra_routers,
        health=rt.health,
        outbox=rt.outbox,
        **rt.workflow_data,
    )


async def start_http(rt: Runtime) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    from bot.http_server import build_http_app, partner_probe

    routes = list(rt.http_routes)
    secret = rt.settings.telegram_webhook_secret
    if secret is not None:

        def add_webhook(app: web.Application) -> None:
            SimpleRequestHandler(
                rt.require("dp"), rt.require("bot"), secret_token=secret.get_secret_value()
            ).register(app, path=WEBHOOK_PATH)

        routes.append(add_webhook)
    rt.http_app = build_http_app(
        session_factory=rt.require("session_factory"),
        health=rt.health,
        partner_check=partner_probe(rt.require("api")),
        redis_check=rt.redis.ping if rt.redis is not None else None,
        extra_routes=routes,
    )
    runner = web.AppRunner(rt.http_app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    rt.stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, rt.settings.http_host, rt.settings.http_port)
    await site.start()
    rt.http_port = int(runner.addresses[0][1]) if runner.addresses else rt.settings.http_port
    log.info("http_listening host=%s port=%s", rt.settings.http_host, rt.http_port)


async def start_outbox(rt: Runtime) -> None:
    outbox = rt.require("outbox")
    outbox.start()
    rt.stack.push_async_callback(outbox.stop)


async def start_components(rt: Runtime) -> None:
    for module in rt.components:
        start = getattr(module, "start", None)
        if start is not None:
            await start(rt)


async def set_commands(rt: Runtime) -> None:
    from aiogram.exceptions import TelegramAPIError

    from bot.commands import reset_user_commands, set_admin_commands, set_default_commands
    from bot.i18n import language_of
    from storage.repositories.users import UserRepository

    bot = rt.require("bot")
    async with rt.require("session_factory")() as session:
        users = UserRepository(session)
        known = await users.get_many(rt.settings.admin_ids)
        # Stored admins taken out of ADMIN_IDS have no rights any more: nor their menu.
        former = sorted(
            u.telegram_id for u in await users.admins()
            if u.telegram_id not in rt.settings.admin_ids
        )
    admins = [(i, language_of(known.get(i))) for i in sorted(rt.settings.admin_ids)]
    try:
        await set_default_commands(bot, rt.i18n)
        await set_admin_commands(bot, rt.i18n, admins)
        for telegram_id in former:
            await reset_user_commands(bot, telegram_id)
    except TelegramAPIError as exc:  # a menu is not worth refusing to start over
        log.warning("set_commands_failed error=%s", type(exc).__name__)


DEFAULT_STEPS: tuple[Step, ...] = (
    start_redis,  # first: a wrong REDIS_URL stops the start before anything is touched
    start_database,
    load_stored_settings,
    start_sandbox,
    start_partner_api,
    start_bot,
    create_outbox,
    configure_components,
    build_dispatcher,
    start_http,
    start_outbox,
    start_components,
    set_commands,
)


async def serve_updates(rt: Runtime) -> None:
    """Long polling, or the webhook (already routed by start_http) until stop."""
    bot, dp = rt.require("bot"), rt.require("dp")
    if rt.settings.webhook_mode:
        secret = rt.settings.telegram_webhook_secret
        assert secret is not None
        await dp.emit_startup(bot=bot, **dp.workflow_data)
        await bot.set_webhook(
            f"{rt.settings.public_url}{WEBHOOK_PATH}",
            secret_token=secret.get_secret_value(),
            allowed_updates=dp.resolve_used_update_types(),
        )
        log.info("webhook_set")
        try:
            await rt.stop_event.wait()
        finally:
            await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        return
    polling = asyncio.create_task(
        dp.start_polling(
            bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=dp.resolve_used_update_types(),
        )
    )
    stopper = asyncio.create_task(rt.stop_event.wait())
    done, _ = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if polling not in done:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        await polling
    stopper.cancel()
    polling.result()


async def run_bot(settings: Settings, *, steps: Sequence[Step] = DEFAULT_STEPS) -> None:
    configure_logging(settings.log_level)
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        rt = Runtime(settings=settings, stack=stack, i18n=I18n())
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, rt.stop)
                stack.callback(loop.remove_signal_handler, sig)
        for step in steps:
            await step(rt)
            if rt.stop_event.is_set():
                break
        else:
            log.info("bot_started sandbox=%s mode=%s", settings.is_sandbox,
                     "webhook" if settings.webhook_mode else "polling")
            await serve_updates(rt)
        log.info("bot_stopping")
    log.info("bot_stopped")
