"""Programmatic Alembic: `await upgrade(url)` for `python -m bot migrate`, no alembic.ini needed.

The running bot never imports this module: it reads revisions with storage/revisions.py
and, when the schema is behind, runs `python -m bot migrate` in a child process.

Alembic's commands are synchronous; they run inside `AsyncConnection.run_sync` on a
connection we open, so no second event loop and no module-level state is involved.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def _run(url: str, action: str, revision: str) -> None:
    cfg = alembic_config(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def run(sync_connection: Connection) -> None:
                cfg.attributes["connection"] = sync_connection
                if action == "upgrade":
                    command.upgrade(cfg, revision)
                else:
                    command.downgrade(cfg, revision)

            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, "upgrade", revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await _run(url, "downgrade", revision)


async def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync_connection: Connection) -> str | None:
                return MigrationContext.configure(sync_connection).get_current_revision()

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
