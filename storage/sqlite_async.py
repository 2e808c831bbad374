"""aiosqlite for SQLAlchemy with one trip to the database thread per statement.

aiosqlite runs each SQLite call on a thread of its own; SQLAlchemy's adapter makes four of
those calls per statement (open a cursor, execute, fetch, close). Each is a hand-over to
that thread and back, and under load each waits for the GIL: most of what a statement
cost on the bot's hot path. ``one_hop_dbapi()`` is SQLAlchemy's own adapter, as
``create_async_engine(..., module=one_hop_dbapi())`` takes it, whose cursors do the four in
one call on the database thread. Everything else (transactions, errors, server-side
cursors, termination) is SQLAlchemy's unchanged.

Writers take turns in the process, not in SQLite's busy handler. SQLite lets one
connection write at a time; the others, on their threads, sleep in its busy handler (1, 2,
5, 10 … 100 ms between tries) and the first to wake after the write lock is free wins, so
under a crowd of updates a commit could wait a second behind writers that came later. Here
a connection about to write (the statements on which sqlite3 opens a transaction: INSERT,
UPDATE, DELETE, REPLACE) first takes the engine's turn (``_Turn``: first come, first
served, no sleeping) and keeps it until its transaction ends (commit, rollback, close).
The wait is bounded by the busy timeout, and ends as SQLite's would: "database is locked".
Other processes on the same file still meet SQLite's own lock and busy handler.

A transaction's last write can carry its COMMIT with it (execution option
``COMMIT_WITH_WRITE``, honoured only on these engines): statement and COMMIT in one trip,
the turn given back as soon as that trip is answered, and the Session's commit that
follows (still called: events, state) costs no trip when nothing is open any more. With a
crowd of updates each ending in one write, the turn was held across two trips and the
event-loop turnarounds between them, and the turns, one after another, bounded how many
updates a second the process could finish.

Relies on aiosqlite's ``Connection._execute`` (queue a function for its thread) and
``_conn`` (the sqlite3 connection it runs on) and on SQLAlchemy's aiosqlite adapter
classes: both pinned in the locks; tests/storage exercise it on every engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

# (description, rows, lastrowid, rowcount, in_transaction after the statement)
_Result = tuple[Any, list[Any], int | None, int, bool]
# The statements before which sqlite3 (Python 3.11) opens a transaction: the writes.
_WRITES = ("insert", "update", "delete", "replac")
_DEFAULT_TIMEOUT_S = 5.0  # sqlite3.connect's own default


def _writes(operation: str) -> bool:
    return operation.lstrip(" \t\r\n")[:6].lower() in _WRITES


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
        return description, rows, cursor.lastrowid, cursor.rowcount, conn.in_transaction
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, seq: Any) -> _Result:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        return None, [], cursor.lastrowid, cursor.rowcount, conn.in_transaction
    finally:
        cursor.close()


def _run_and_commit(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    description, rows, lastrowid, rowcount, _ = _run(conn, operation, parameters)
    conn.commit()
    return description, rows, lastrowid, rowcount, conn.in_transaction


def _run_many_and_commit(conn: sqlite3.Connection, operation: str, seq: Any) -> _Result:
    description, rows, lastrowid, rowcount, _ = _run_many(conn, operation, seq)
    conn.commit()
    return description, rows, lastrowid, rowcount, conn.in_transaction


def _in_transaction(conn: sqlite3.Connection) -> bool:
    return conn.in_transaction


class _Turn:
    """A first-come-first-served lock of one event loop, taken without awaiting when free
    (most writes: no future, no timer, no trip through the greenlet). ``release`` hands it
    straight to the next waiter."""

    __slots__ = ("held", "loop", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.held = False
        self.waiters: deque[asyncio.Future[None]] = deque()

    def take_now(self) -> bool:
        if self.held:
            return False
        self.held = True
        return True

    async def take(self, wait_s: float) -> None:
        waiter = self.loop.create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(wait_s):
                await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as the wait ended: pass it on
            else:
                waiter.cancel()  # ``release`` skips it
            if isinstance(error, TimeoutError):
                # What SQLite itself says when its busy timeout runs out.
                raise sqlite3.OperationalError("database is locked") from None
            raise

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # still held: now the waiter's
                return
        self.held = False


class _WriterTurns:
    """One engine's writers, one at a time (see the module docstring): a ``_Turn`` for the
    event loop it runs in (tests run many loops, one at a time)."""

    def __init__(self) -> None:
        self._turn: _Turn | None = None

    def turn(self) -> _Turn:
        loop = asyncio.get_running_loop()
        turn = self._turn
        if turn is None or turn.loop is not loop:
            turn = self._turn = _Turn(loop)
        return turn


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _hop(self, fn: Any, operation: str, parameters: Any) -> None:
        adapted = cast(_OneHopConnection, self._adapt_connection)
        if adapted._turn is None and _writes(operation):
            adapted._take_turn()
        connection: Any = self._connection  # an aiosqlite.Connection
        try:
            description, rows, lastrowid, rowcount, in_transaction = self.await_(
                connection._execute(fn, connection._conn, operation, parameters)
            )
        except BaseException:
            adapted._end_turn_unless_in_transaction()
            raise
        adapted._open = in_transaction
        if not in_transaction:
            adapted._end_turn()  # autocommit or committed with it: the write is done
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

    def execute_and_commit(self, operation: Any, parameters: Any = None) -> None:
        try:
            self._hop(_run_and_commit, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany_and_commit(self, operation: Any, seq_of_parameters: Any) -> None:
        try:
            self._hop(_run_many_and_commit, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_open", "_timeout", "_turn", "_turns")

    def __init__(self, dbapi: Any, connection: Any, turns: _WriterTurns, timeout: float) -> None:
        super().__init__(dbapi, connection)
        self._turns = turns
        self._timeout = timeout
        self._turn: _Turn | None = None  # held from the first write to the end
        # False only when the last trip said no transaction is open (then a COMMIT would
        # be a trip for nothing); True when open or not known.
        self._open = True

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            self._open = True  # its statements do not report back: not known any more
            return super().cursor(server_side=True)
        return _OneHopCursor(self)

    def _take_turn(self) -> None:
        turn = self._turns.turn()
        if not turn.take_now():
            try:
                self.await_(turn.take(self._timeout))
            except Exception as error:
                self._handle_exception(error)
        self._turn = turn

    def _end_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()

    def _end_turn_unless_in_transaction(self) -> None:
        """After a failed write: a transaction it left open keeps the turn until its
        rollback; if none is open (it failed before writing), the turn ends now."""
        if self._turn is None:
            return
        connection: Any = self._connection
        try:
            in_transaction = self.await_(connection._execute(_in_transaction, connection._conn))
        except BaseException:
            in_transaction = False  # the connection is gone: so is its transaction
        self._open = in_transaction
        if not in_transaction:
            self._end_turn()

    def rollback(self) -> None:
        try:
            if self._open:
                super().rollback()
        finally:
            self._end_turn()

    def commit(self) -> None:
        if not self._open:  # committed with the last write, or nothing was written
            self._end_turn()
            return
        try:
            super().commit()
            self._open = False
        except BaseException:
            # A COMMIT that failed may leave the transaction open: SQLAlchemy rolls it back.
            self._end_turn_unless_in_transaction()
            raise
        self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_turn()

    def _terminate_force_close(self) -> None:
        try:
            super()._terminate_force_close()
        finally:
            self._end_turn()


class _OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)
        self._turns = _WriterTurns()

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        timeout = float(kw.get("timeout", _DEFAULT_TIMEOUT_S))
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # the sync fallback: left as SQLAlchemy makes it
        return _OneHopConnection(self, adapted._connection, self._turns, timeout)


COMMIT_WITH_WRITE = "sqlite_commit_with_write"


def commit_with_write(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """SQLAlchemy's ``do_execute`` event: a statement given ``COMMIT_WITH_WRITE`` runs with
    its COMMIT (True: done here); any other, as usual."""
    if not isinstance(cursor, _OneHopCursor) or not context.execution_options.get(
        COMMIT_WITH_WRITE
    ):
        return False
    cursor.execute_and_commit(statement, parameters)
    return True


def commit_many_with_write(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """The same for ``do_executemany``."""
    if not isinstance(cursor, _OneHopCursor) or not context.execution_options.get(
        COMMIT_WITH_WRITE
    ):
        return False
    cursor.executemany_and_commit(statement, parameters)
    return True


def one_hop_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """One per engine: its writers take turns (see the module docstring)."""
    return _OneHopDbapi()
