"""aiosqlite for SQLAlchemy with one trip to the database thread per statement.

aiosqlite runs each SQLite call on a thread of its own; SQLAlchemy's adapter makes four of
those calls per statement (open a cursor, execute, fetch, close). Each is a hand-over to
that thread and back, and under load each waits for the GIL: most of what a statement
cost on the bot's hot path. ``one_hop_dbapi()`` is SQLAlchemy's own adapter, as
``create_async_engine(..., module=one_hop_dbapi())`` takes it, whose cursors do the four in
one call on the database thread. Everything else (transactions, errors, server-side
cursors, termination) is SQLAlchemy's unchanged.

Relies on aiosqlite's ``Connection._execute`` (queue a function for its thread) and
``_conn`` (the sqlite3 connection it runs on) and on SQLAlchemy's aiosqlite adapter
classes: both pinned in the locks; tests/storage exercise it on every engine.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Result = tuple[Any, list[Any], int | None, int]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """On the database thread: the whole statement, rows fetched, cursor closed."""
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, seq: Any) -> _Result:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _hop(self, fn: Any, operation: str, parameters: Any) -> None:
        connection: Any = self._connection  # an aiosqlite.Connection
        description, rows, lastrowid, rowcount = self.await_(
            connection._execute(fn, connection._conn, operation, parameters)
        )
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows)
        else:
            self.lastrowid = lastrowid
            self.rowcount = rowcount

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            self._hop(_run, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            self._hop(_run_many, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return _OneHopCursor(self)


class _OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # the sync fallback: left as SQLAlchemy makes it
        return _OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    return _OneHopDbapi(aiosqlite, sqlite3)
