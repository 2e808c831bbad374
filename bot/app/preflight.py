"""Start-up checks that turn an operator's mistake into one ConfigError line (exit code 2).

Each check touches one thing the operator configured — BOT_TOKEN / TELEGRAM_API_URL,
REDIS_URL here, DATABASE_URL in bot/schema.py — and names the setting in its message. Real
bugs (a failing migration, an unexpected exception) stay real errors with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.types import User

from bot.app.fsm import REDIS_TIMEOUT
from bot.settings import ConfigError, Settings, first_line

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


async def check_identity(bot: Bot, settings: Settings) -> User:
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
        why = first_line(exc.message).replace(settings.bot_token.get_secret_value(), "***")
        raise ConfigError(f"TELEGRAM_API_URL {url} is unreachable ({why})") from None


def redis_where(url: str) -> str:
    """host:port/db or the socket path: never the password an operator put in the URL."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"  # the port: validated


async def ping_redis(client: Redis, url: str) -> None:
    """A wrong or unreachable REDIS_URL stops the start with one line instead of failing
    every update later."""
    from redis.exceptions import RedisError

    try:
        await asyncio.wait_for(client.ping(), REDIS_TIMEOUT)
    except (RedisError, OSError, TimeoutError) as exc:
        raise ConfigError(
            f"REDIS_URL: Redis at {redis_where(url)} does not answer ({type(exc).__name__})"
        ) from None
