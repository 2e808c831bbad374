"""Engine, session factory and the column types shared by the models."""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, String, event, exc
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
# A pooled PostgreSQL connection is pinged before use only when it has sat idle this long.
PING_AFTER_IDLE_S = 1.0
_LAST_USED = "last_used"

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
    engine = create_async_engine(parsed, echo=echo, hide_parameters=True)
    ping_idle_connections(engine)
    return engine


def ping_idle_connections(
    engine: AsyncEngine,
    idle_s: float = PING_AFTER_IDLE_S,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections that have sat idle ``idle_s``.

    pre_ping pings every connection taken from the pool: on asyncpg that is BEGIN, ";",
    ROLLBACK, three round trips before an update's own (BEGIN, its SELECT, COMMIT): half of
    the bot's statements on PostgreSQL (+3 % updates/s in tests.bench.updates on PostgreSQL
    + Redis without them, and three network round trips less per update where the server
    is another host). A connection given back less than ``idle_s`` ago has just worked.
    The price: one the server dropped within that second (a restart, a network cut) fails
    the statement it runs instead of being replaced before it, and SQLAlchemy then replaces
    every older connection of the pool, as for any disconnect — the same end as for the
    statements that were running when the server went. Connections that sat idle through
    an outage are pinged and replaced before use, as with pre_ping.
    """

    def connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = clock()  # just opened: nothing to ping

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = clock()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and clock() - last < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool replaces this connection and every older one, then tries again.
            raise exc.InvalidatePoolError(f"ping failed: {type(error).__name__}") from error

    # On the engine, not its pool: the listeners stay with the pool ``dispose()`` makes.
    event.listen(engine.sync_engine, "connect", connected)
    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "checkout", checked_out)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name
