"""Start-up checks that turn an operator's mistake into one ConfigError line (exit code 2).

Each check touches one thing the operator configured — DATABASE_URL, BOT_TOKEN /
TELEGRAM_API_URL, REDIS_URL — and names the setting in its message. Real bugs (a failing
migration, an unexpected exception) stay real errors with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.types import User

from bot.app.fsm import REDIS_TIMEOUT
from bot.settings import ConfigError, Settings
from storage.revisions import code_revisions, database_revision

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


def first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]


async def check_database(url: str) -> str | None:
    """Open (for SQLite: create) the database once, so a path that cannot be created, a
    server that does not answer or refused credentials stop the start in one line naming
    DATABASE_URL, before the migrations run (their own errors stay real errors). Returns
    the schema revision the database is at (None: never migrated)."""
    from sqlalchemy.exc import DBAPIError

    from storage.db import create_engine

    try:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(database_revision)
        finally:
            await engine.dispose()
    except OSError as exc:  # the SQLite directory, or the server's address
        why = exc.strerror or str(exc)
        raise ConfigError(
            f"DATABASE_URL: the database cannot be opened ({type(exc).__name__}: "
            f"{first_line(why)})"
        ) from None
    except DBAPIError as exc:
        orig = exc.orig if exc.orig is not None else exc
        raise ConfigError(
            f"DATABASE_URL: the database cannot be opened ({type(orig).__name__}: "
            f"{first_line(str(orig))})"
        ) from None


async def migrate_database(url: str) -> None:
    """``python -m bot migrate``: the reachability check, then Alembic (in this process)."""
    from storage.migrate import upgrade

    await check_database(url)
    await upgrade(url)


async def ensure_schema(url: str) -> None:
    """The start-up with MIGRATE_ON_START=true: a database behind the code is migrated by
    ``python -m bot migrate`` in a child process, so Alembic is never imported into the
    long-running one (issue 14: it would stay in its memory for good); at the code's
    revision (every restart but the first after an upgrade) nothing is started at all."""
    current = await check_database(url)
    revisions = code_revisions()
    if not revisions.is_behind(current):
        _warn_if_newer(current, revisions.head)
        return
    await migrate_in_child(url)
    log.info("schema_migrated from=%s to=%s", current or "none", revisions.head)


async def migrate_in_child(url: str) -> None:
    """``python -m bot migrate`` on ``url`` (passed in the environment: a URL on a command
    line would show its password to ``ps``); its errors go to our stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "migrate",
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
    )
    # Not cancelled with the start-up: a migration stopped halfway is worse than a late exit.
    code = await asyncio.shield(proc.wait())
    if code != 0:
        raise RuntimeError(f"`python -m bot migrate` failed (exit code {code}); see above")


async def check_schema(url: str) -> None:
    """MIGRATE_ON_START=false (replicas): the schema must already be what the code needs;
    ``python -m bot migrate`` runs once per deploy, before the replicas start."""
    current = await check_database(url)
    head = code_revisions().head
    if code_revisions().is_behind(current):
        raise ConfigError(
            f"the database schema is at revision {current or 'none'}, this code needs {head}: "
            "run `python -m bot migrate` first (MIGRATE_ON_START=false)"
        )
    _warn_if_newer(current, head)


def _warn_if_newer(current: str | None, head: str | None) -> None:
    if current != head:
        log.warning("schema_newer_than_code revision=%s code_head=%s", current, head)


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
