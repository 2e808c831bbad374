"""asyncpg for SQLAlchemy, a transaction begun at its first statement that needs one.

SQLAlchemy's asyncpg adapter sends BEGIN before the first statement of every transaction
and COMMIT at its end: two more round trips to the server. An update of the bot on the
replica set-up mostly reads (the user's row; its conversation state is in Redis): BEGIN,
SELECT, COMMIT, three round trips where the SELECT alone tells the same. Under READ
COMMITTED, PostgreSQL's default, every statement of a transaction sees the data committed
when it starts, as a statement outside one does; so reads before a transaction's first
write may run outside it with nothing changed but the round trips. Here a connection opens
its transaction at the first statement that needs one:

- anything but a plain SELECT (INSERT, UPDATE, DELETE, WITH …, DDL, CALL …);
- a SELECT that locks (FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE), takes an advisory
  transaction lock (``pg_advisory_xact_lock``…) or changes a setting (``set_config``);
- everything, when the connection's isolation is not READ COMMITTED (its own setting or the
  server's default), or it is read-only or deferrable, or a server-side cursor is used.

COMMIT and ROLLBACK of a connection that never began cost nothing (the adapter's own).
Relies on ``AsyncAdapt_asyncpg_connection._start_transaction`` and ``_started`` (pinned in
the locks); tests/storage run on PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_cursor,
    AsyncAdapt_asyncpg_dbapi,
)
from sqlalchemy.util import await_only

_NEEDS_TRANSACTION = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|_xact_|\bset_config\b",
    re.IGNORECASE,
)


def reads_only(operation: str) -> bool:
    """A plain SELECT: no lock, no transaction-scoped lock or setting."""
    return operation.lstrip(" \t\r\n(")[:6].upper() == "SELECT" and not _NEEDS_TRANSACTION.search(
        operation
    )


class _LazyBeginCursor(AsyncAdapt_asyncpg_cursor):
    async def _prepare_and_execute(self, operation: Any, parameters: Any) -> None:
        connection: Any = self._adapt_connection
        if connection._started or not connection.defers or not reads_only(operation):
            await super()._prepare_and_execute(operation, parameters)
            return
        connection.outside = True
        try:
            await super()._prepare_and_execute(operation, parameters)
        finally:
            connection.outside = False


class _LazyBeginConnection(AsyncAdapt_asyncpg_connection):
    __slots__ = ("outside", "read_committed")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outside = False  # the statement being sent runs outside a transaction
        self.read_committed = False  # the server's default isolation (set by connect)

    @property
    def defers(self) -> bool:
        """Reads may run before the transaction: READ COMMITTED, nothing else asked for."""
        return (
            self.read_committed
            and self.isolation_level is None
            and not self.readonly
            and not self.deferrable
        )

    async def _start_transaction(self) -> None:
        if self.outside:
            return
        await super()._start_transaction()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:  # asyncpg's cursors live in a transaction
            return super().cursor(server_side=True)
        return _LazyBeginCursor(self)


class _LazyBeginDbapi(AsyncAdapt_asyncpg_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> Any:
        if kw.get("async_fallback"):
            return super().connect(*arg, **kw)  # left as SQLAlchemy makes it
        creator_fn = kw.pop("async_creator_fn", self.asyncpg.connect)
        cache_size = kw.pop("prepared_statement_cache_size", 100)
        name_func = kw.pop("prepared_statement_name_func", None)
        raw = await_only(creator_fn(*arg, **kw))
        adapted = _LazyBeginConnection(
            self,
            raw,
            prepared_statement_cache_size=cache_size,
            prepared_statement_name_func=name_func,
        )
        default = await_only(raw.fetchval("SHOW default_transaction_isolation"))
        adapted.read_committed = default == "read committed"
        return adapted


def lazy_begin_dbapi() -> AsyncAdapt_asyncpg_dbapi:
    return _LazyBeginDbapi(asyncpg)
