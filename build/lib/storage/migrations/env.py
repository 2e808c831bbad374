"""Alembic environment, async-aware.

Two ways in:
- programmatic (storage.migrate): a live sync connection is passed in
  `config.attributes["connection"]`, so no engine or event loop is created here;
- the `alembic` CLI: the URL comes from `sqlalchemy.url` or, when that is empty, from
  `DATABASE_URL`, and an async engine is run with asyncio.run.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from storage.db import create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("connection") is None:
    # Keep the application's loggers alive when run from the CLI.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations carry plain SQL types, not our TypeDecorators, so they never break
    # when storage/db.py changes.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{impl!r}"
    return False


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or DATABASE_URL")
    return url


def _configure(connection: Connection | None = None, **kw: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
        render_item=_render_item,
        **kw,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async(_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
