"""The Telegram side of the process: the Bot and how updates arrive.

``TelegramSession`` (bot.app.telegram_session): aiogram's AiohttpSession, cheaper per request.

``make_bot``/``install_demo_mark``/``start_bot``: the Bot, the sandbox's demo mark on every
text, the getMe check. ``allowed_update_types``: what getUpdates/setWebhook ask for.
``serve_updates``: long polling, or the webhook at ``WEBHOOK_PATH``
(routed on the HTTP listener by ``webhook_route``) until the runtime stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiogram_dialog import DIALOG_EVENT_NAME
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.preflight import check_identity
from bot.app.telegram_session import TelegramSession as TelegramSession  # re-exported
from bot.http_server import RouteRegistrar
from bot.i18n import I18n
from bot.middlewares.demo_mark import DemoMarkMiddleware, stored_language_lookup
from bot.settings import Settings
from storage.repositories.app_state import AppStateRepository

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


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
    """Sandbox mode: every text the bot sends ends with "ДЕМО — звонков нет"."""
    bot.session.middleware(DemoMarkMiddleware(i18n, stored_language_lookup(session_factory)))


async def start_bot(rt: Runtime) -> None:
    rt.bot = make_bot(rt.settings)
    rt.stack.push_async_callback(rt.bot.session.close)
    if rt.settings.is_sandbox:
        install_demo_mark(rt.bot, rt.i18n, rt.require("session_factory"))
    me = await check_identity(rt.bot, rt.settings)
    log.info("bot_identity bot_id=%s username=%s", me.id, me.username)


def allowed_update_types(dp: Dispatcher) -> list[str]:
    """The update types the handlers use, for getUpdates/setWebhook ``allowed_updates``.

    aiogram-dialog registers its internal ``aiogd_update`` event on the routers; it is no
    Telegram update type, so it is left out (Telegram refuses what it does not know)."""
    return dp.resolve_used_update_types(skip_events={DIALOG_EVENT_NAME})


def webhook_route(dp: Dispatcher, bot: Bot, secret: str) -> RouteRegistrar:
    """Telegram POSTs updates to ``WEBHOOK_PATH``; a request without the secret gets 401."""

    def register(app: web.Application) -> None:
        SimpleRequestHandler(dp, bot, secret_token=secret).register(app, path=WEBHOOK_PATH)

    return register


WEBHOOK_STATE_KEY = "telegram_webhook"
UPDATES_DRAIN_SECONDS = 10.0  # bounded: a stuck handler must not hold a SIGTERM forever


def webhook_fingerprint(url: str, secret: str, allowed: list[str]) -> str:
    """What a replica compares before setting the webhook: Telegram never shows the secret
    back (getWebhookInfo), so its hash is kept with the URL and update types."""
    raw = "\n".join([url, secret, ",".join(sorted(allowed))])
    return hashlib.sha256(raw.encode()).hexdigest()


async def ensure_webhook(rt: Runtime, secret: str, allowed: list[str]) -> None:
    """One replica sets the webhook; the others see it set as they would set it and leave
    it (no setWebhook storm on every restart of every replica). A new secret, URL or set of
    update types is set again by the first replica that starts with it."""
    bot = rt.require("bot")
    url = f"{rt.settings.public_url}{WEBHOOK_PATH}"
    fingerprint = webhook_fingerprint(url, secret, allowed)
    info = await bot.get_webhook_info()
    async with rt.require("session_factory")() as session:
        stored = await AppStateRepository(session).get(WEBHOOK_STATE_KEY)
    same_types = sorted(info.allowed_updates or []) == sorted(allowed)
    if info.url == url and same_types and stored == fingerprint:
        log.info("webhook_already_set")
        return
    await bot.set_webhook(url, secret_token=secret, allowed_updates=allowed)
    async with rt.require("session_factory")() as session:
        await AppStateRepository(session).set(WEBHOOK_STATE_KEY, fingerprint)
        await session.commit()
    log.info("webhook_set")


async def serve_updates(rt: Runtime) -> None:
    """Long polling, or the webhook (already routed by start_http) until stop."""
    bot, dp = rt.require("bot"), rt.require("dp")
    if rt.settings.webhook_mode:
        secret = rt.settings.telegram_webhook_secret
        assert secret is not None  # webhook_mode means it is set
        await dp.emit_startup(bot=bot, **dp.workflow_data)
        await ensure_webhook(rt, secret.get_secret_value(), allowed_update_types(dp))
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
            allowed_updates=allowed_update_types(dp),
        )
    )
    stopper = asyncio.create_task(rt.stop_event.wait())
    done, _ = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if polling not in done:
        with contextlib.suppress(RuntimeError):  # polling may have stopped on its own
            await dp.stop_polling()
        await polling
    # Updates still being handled finish before the database and Redis close under them:
    # their answer may already be in the chat, their commit (state, user row) not yet.
    # aiogram keeps them in a private set and does not wait for them on stop.
    in_flight = set(getattr(dp, "_handle_update_tasks", ()))
    if in_flight:
        await asyncio.wait(in_flight, timeout=UPDATES_DRAIN_SECONDS)
    stopper.cancel()
    polling.result()
