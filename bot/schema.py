"""The database schema at start-up: reachable, at the code's revision, migrated if behind.

Apart from bot/app on purpose: `python -m bot migrate` (also the child process the start-up
runs) imports this module and Alembic, not the bot's routers, dialogs and aiogram — seconds
of start-up on the first run after an upgrade. The running bot imports this module and never
Alembic (storage/revisions.py reads the revisions).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from bot.settings import ConfigError, first_line
from storage.revisions import code_revisions, database_revision

log = logging.getLogger(__name__)


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
            f"DATABASE_URL: the database cannot be opened ({type(exc).__name__}: {first_line(why)})"
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
