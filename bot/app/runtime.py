"""The process: ``run_bot`` runs ``DEFAULT_STEPS`` in order over one ``Runtime``, then serves.

Each step starts one thing, stores it on the ``Runtime`` and pushes how to stop it onto
``rt.stack`` (one ``AsyncExitStack``), so the process stops in the reverse order. A step that
finds an operator's mistake raises ``ConfigError`` (one line, exit code 2 in bot/cli.py);
the checks themselves are in bot/app/preflight.py. tests/bot_fixtures.py ``run_app`` runs the
same steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import scheduler as ops_scheduler
from bot.app.dispatcher import create_dispatcher
from bot.app.fsm import redis_client, redis_fsm
from bot.app.partner import start_partner_api, start_sandbox
from bot.app.preflight import check_schema, migrate_database, ping_redis, redis_where
from bot.app.telegram import serve_updates, start_bot, webhook_route
from bot.commands import reset_user_commands, set_admin_commands, set_default_commands
from bot.http_server import RouteRegistrar, build_http_app, partner_probe
from bot.i18n import I18n, language_of
from bot.metrics import Metrics
from bot.notifications import runtime as notifications
from bot.outbox import OutboxSender
from bot.scheduler import new_scheduler
from bot.settings import Settings
from storage.db import create_engine, create_session_factory
from storage.repositories.app_state import AppStateRepository
from storage.repositories.users import UserRepository

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from redis.asyncio import Redis

    from api_client import OAuthTokenProvider
    from api_client.client import PartnerApiClient
    from api_client.sandbox import SandboxServer
    from bot.http_server import HealthState
    from bot.jobs.token_refresh import TokenRefresher
    from bot.notifications.runtime import Notifications

log = logging.getLogger(__name__)


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
    """What the steps have started so far; ``None`` until the step that sets it has run."""

    settings: Settings
    stack: AsyncExitStack
    i18n: I18n = field(default_factory=I18n)
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    # This app's Prometheus series (its own registry: GET /metrics), fed by every part.
    metrics: Metrics = field(default_factory=Metrics)
    engine: AsyncEngine | None = None
    session_factory: async_sessionmaker[AsyncSession] | None = None
    redis: Redis | None = None  # when REDIS_URL is set: the process's one Redis client
    fsm: tuple[BaseStorage, BaseEventIsolation] | None = None  # over ``redis``
    sandbox: SandboxServer | None = None  # sandbox mode only
    api_base_url: str = ""
    http: httpx.AsyncClient | None = None
    token_refresher: TokenRefresher | None = None  # when the token pair can be refreshed
    token_provider: OAuthTokenProvider | None = None
    api: PartnerApiClient | None = None
    bot: Bot | None = None
    outbox: OutboxSender | None = None
    health: HealthState | None = None
    scheduler: AsyncIOScheduler | None = None
    notifications: Notifications | None = None
    dp: Dispatcher | None = None
    http_app: web.Application | None = None
    http_port: int | None = None  # the bound port (HTTP_PORT=0 picks a free one)

    def require(self, name: str) -> Any:
        """The started thing called ``name``; a step placed before its provider fails here."""
        value = getattr(self, name)
        if value is None:
            raise RuntimeError(f"runtime step order: {name} is not started yet")
        return value

    def stop(self) -> None:
        self.stop_event.set()


Step = Callable[[Runtime], Awaitable[None]]
STARTUP_SETTLE_TIMEOUT = 30.0  # seconds the start-up waits for the partner's get-all


async def start_redis(rt: Runtime) -> None:
    """One Redis client for the FSM storage and both event isolations, pinged now."""
    url = rt.settings.redis_url
    if not url:
        return
    client = redis_client(url)
    rt.stack.push_async_callback(client.aclose)
    await ping_redis(client, url)
    rt.redis = client
    rt.fsm = redis_fsm(client, rt.settings)
    log.info("redis_ready where=%s", redis_where(url))


async def start_database(rt: Runtime) -> None:
    if rt.settings.migrate_on_start:
        await migrate_database(rt.settings.database_url)
    else:  # replicas: `python -m bot migrate` is its own deploy step
        await check_schema(rt.settings.database_url)
    rt.engine = create_engine(rt.settings.database_url)
    rt.stack.push_async_callback(rt.engine.dispose)
    rt.session_factory = create_session_factory(rt.engine)
    log.info("database_ready")


async def load_stored_settings(rt: Runtime) -> None:
    """What the bot learnt while running wins over the environment, like the token pair:
    the team group's new id after its migration to a supergroup (bot/outbox/)."""
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


async def create_outbox(rt: Runtime) -> None:
    rt.outbox = OutboxSender(
        rt.require("bot"),
        rt.require("session_factory"),
        team_chat_id=rt.settings.team_chat_id,
        instance=rt.settings.instance_name,  # a restart releases its predecessor's claims
        sends_in_flight=rt.settings.outbox_sends_in_flight,  # what a kill -9 may repeat
        # Rows about a consultation, and admin alerts, are re-checked against the policy
        # right before they are sent (bot/services/delivery.py).
        admin_ids=rt.settings.admin_ids,
        on_send=rt.metrics.outbox_send,
    )


async def create_scheduler(rt: Runtime) -> None:
    """Before the jobs' owners: they add their jobs to it; it starts in start_scheduler."""
    rt.scheduler = new_scheduler()


async def build_notifications(rt: Runtime) -> None:
    rt.notifications = notifications.build(rt)


async def build_dispatcher(rt: Runtime) -> None:
    storage, isolation = rt.fsm or (None, None)
    tokens = {"token_refresher": rt.token_refresher, "token_provider": rt.token_provider}
    rt.dp = create_dispatcher(
        settings=rt.settings,
        storage=storage,
        events_isolation=isolation,
        api=rt.require("api"),
        session_factory=rt.require("session_factory"),
        i18n=rt.i18n,
        outbox_wakeup=rt.require("outbox").wake,
        health=rt.health,
        outbox=rt.outbox,
        notifications=rt.require("notifications"),  # the wizard and the card wake its worker
        scheduler=rt.require("scheduler"),
        metrics=rt.metrics,
        **{name: value for name, value in tokens.items() if value is not None},
    )


async def start_http(rt: Runtime) -> None:
    """/health, /ready, /metrics, the partner API's status web-hook and, in webhook mode,
    Telegram's updates."""
    routes: list[RouteRegistrar] = [rt.require("notifications").receiver.setup]
    secret = rt.settings.telegram_webhook_secret
    if secret is not None:
        routes.append(webhook_route(rt.require("dp"), rt.require("bot"), secret.get_secret_value()))
    rt.http_app = build_http_app(
        session_factory=rt.require("session_factory"),
        health=rt.require("health"),
        partner_check=partner_probe(rt.require("api")),
        redis_check=rt.redis.ping if rt.redis is not None else None,
        extra_routes=routes,
        metrics=rt.metrics,
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


async def start_notifications(rt: Runtime) -> None:
    """The status worker, and reconcile on the scheduler (which is not running yet)."""
    await notifications.start(rt, rt.require("notifications"), rt.require("scheduler"))


async def settle_interrupted_starts(rt: Runtime) -> None:
    """Starts a crash left behind (``starting`` older than a start call can take, and
    ``unknown`` ones) are looked up now, not at the first reconcile tick: their
    coordinators hear what is known at once. A partner outage only delays it to the tick."""
    reconciler = rt.require("notifications").reconciler
    try:
        async with asyncio.timeout(STARTUP_SETTLE_TIMEOUT):
            counts = await reconciler.settle_starts()
    except Exception as exc:
        log.warning("startup_settle_failed error=%s", type(exc).__name__)
        return
    if counts.bound or counts.gave_up or counts.pending or counts.unsettled_errors:
        log.info("startup_settle counts=%s", counts)


async def start_scheduler(rt: Runtime) -> None:
    """The operator's jobs, then the scheduler runs; after every job owner has added its own."""
    await ops_scheduler.start(rt, rt.require("scheduler"))


async def set_commands(rt: Runtime) -> None:
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
    load_stored_settings,  # before anything reads settings.team_chat_id
    start_sandbox,
    start_partner_api,
    start_bot,
    create_outbox,
    create_scheduler,
    build_notifications,
    build_dispatcher,
    start_http,  # status web-hooks and webhook updates may arrive from here on
    start_outbox,
    start_notifications,
    settle_interrupted_starts,  # after the outbox: coordinators are told at once
    start_scheduler,  # stops first on the way out, before what its jobs use
    set_commands,
)


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
            if rt.stop_event.is_set():  # a signal during the start-up
                break
        else:
            log.info("bot_started sandbox=%s mode=%s", settings.is_sandbox,
                     "webhook" if settings.webhook_mode else "polling")
            await serve_updates(rt)
        log.info("bot_stopping")
    log.info("bot_stopped")
