"""Engine, session factory and the column types shared by the models."""

from __future__ import annotations

import enum
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, String, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from storage.sqlite_async import commit_many_with_write, commit_with_write, inline_dbapi

DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 15_000

E = TypeVar("E", bound=enum.Enum)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns timezone-aware UTC datetimes.

    SQLite has no time zone support: values are stored as naive UTC text (one fixed format,
    so comparisons in SQL stay correct). PostgreSQL uses `timestamptz`. Naive input is
    refused: a naive datetime is a bug upstream, and guessing its zone would hide it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UtcDateTime column; pass an aware one")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A Python enum stored as its string value in a VARCHAR (no native DB enum type)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[E], length: int = 32) -> None:
        super().__init__()
        self.impl = String(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(self.enum_cls(value).value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_cls(value)


def _create_private(path: Path) -> None:
    """Create the SQLite file (and its directory) readable by the owner only: it holds
    patient data. SQLite gives its -wal and -shm files the mode of the database file.
    An existing file is left as the operator set it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # the umask can only take bits away; this says it outright


def _sqlite_pragmas() -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers do not block the writer; foreign keys are off by default in
            # SQLite. (The busy timeout is the connection's: sqlite_async applies it where
            # a statement may wait.)
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted and overwritten content is zeroed, not left in free pages and old
            # cells where a copy of the file would still show a purged name or phone.
            cursor.execute("PRAGMA secure_delete=ON")
        finally:
            cursor.close()

    return on_connect


def create_engine(
    url: str,
    *,
    echo: bool = False,
    sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
) -> AsyncEngine:
    """An async engine for `sqlite+aiosqlite:///path` or `postgresql+asyncpg://...`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        kwargs: dict[str, Any] = {}
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            # One shared connection, or every connection would see its own empty database.
            kwargs["poolclass"] = StaticPool
        else:
            _create_private(Path(database).expanduser())
        engine = create_async_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000},
            # Statements on the loop's thread, not four hand-overs to aiosqlite's each
            # (sqlite_async).
            module=inline_dbapi(),
            # No ROLLBACK as each connection goes back to the pool: SQLAlchemy's Connection
            # already ends any transaction it began when closed, so this one would only
            # cost another call into SQLite after every commit.
            pool_reset_on_return=None,
            **kwargs,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas())
        # A transaction's last write may carry its COMMIT (sqlite_async.COMMIT_WITH_WRITE).
        event.listen(engine.sync_engine, "do_execute", commit_with_write)
        event.listen(engine.sync_engine, "do_executemany", commit_many_with_write)
        return engine
    return create_async_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name
