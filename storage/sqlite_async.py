"""aiosqlite for SQLAlchemy, its statements run on the event loop's own thread.

aiosqlite runs each SQLite call on a thread of its own, and SQLAlchemy's adapter makes
four of those calls per statement (open a cursor, execute, fetch, close). Each is a
hand-over to that thread and back: a wake-up of the loop, and under load a wait for the
GIL. A statement of the bot (a row or a few by key, on a local file in WAL mode) takes
SQLite tens of microseconds; the hand-overs cost the bot a third of its time per update
under a crowd (tests/bench/updates). ``inline_dbapi()`` is SQLAlchemy's own adapter, as
``create_async_engine(..., module=inline_dbapi())`` takes it, whose cursors run the whole
statement (execute, fetch, close) right where SQLAlchemy calls it, and whose COMMIT and
ROLLBACK do too. Everything else (transactions, errors, server-side cursors, connecting
and closing) is SQLAlchemy's and aiosqlite's unchanged.

Nothing may wait on the loop's thread, so SQLite's busy timeout is 0 there: a statement
that meets a lock held elsewhere fails at once with SQLITE_BUSY (a statement that fails so
has done nothing), and is run again on the connection's aiosqlite thread with the busy
timeout it was configured with, as before. Only another process (or another engine) on the
same file can hold that lock, for the writers of one engine take turns first:

Writers take turns in the process, not in SQLite's busy handler. SQLite lets one
connection write at a time. Here a connection about to write (the statements on which
sqlite3 opens a transaction: INSERT, UPDATE, DELETE, REPLACE) first takes the engine's
turn (``_Turn``: first come, first served, no sleeping) and keeps it until its transaction
ends (commit, rollback, close). The wait is bounded by the busy timeout, and ends as
SQLite's would: "database is locked".

A transaction's last write can carry its COMMIT with it (execution option
``COMMIT_WITH_WRITE``, honoured only on these engines): the turn is given back as soon as
the statement is done, and the Session's commit that follows (still called: events,
state) does nothing more when nothing is open any more.

Checkpoints leave the loop too. SQLite copies the write-ahead log into the database
(fsync included) inside the COMMIT that filled it past ``wal_autocheckpoint`` pages: on
the loop, a stall of every update in flight. These connections turn that off, and every
``CHECKPOINT_EVERY`` commits a PASSIVE checkpoint runs on a worker thread with a
connection of its own (``_Checkpoints``); it never waits for readers or writers.

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
_Result = tuple[Any, list[Any], Any, int, bool]
# The statements before which sqlite3 (Python 3.11) opens a transaction: the writes.
_WRITES = ("insert", "update", "delete", "replac")
_DEFAULT_TIMEOUT_S = 5.0  # sqlite3.connect's own default
# Commits between two checkpoints: SQLite's own default is 1000 pages of log, and a commit
# of the bot writes a few pages.
CHECKPOINT_EVERY = 200


def _writes(operation: str) -> bool:
    return operation.lstrip(" \t\r\n")[:6].lower() in _WRITES


def _busy(error: BaseException) -> bool:
    """SQLITE_BUSY or one of its extended codes: a lock held elsewhere."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """The whole statement: executed, rows fetched, cursor closed."""
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


def _commit(conn: sqlite3.Connection) -> None:
    conn.commit()


def _rollback(conn: sqlite3.Connection) -> None:
    conn.rollback()


def _waiting(conn: sqlite3.Connection, timeout_ms: int, fn: Any, *args: Any) -> Any:
    """On the database thread: ``fn`` with SQLite's busy handler waiting up to
    ``timeout_ms`` for the lock; the loop's statements go on failing at once."""
    conn.execute(f"PRAGMA busy_timeout={timeout_ms}")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("PRAGMA busy_timeout=0")


async def _passed() -> None:
    """Awaited once per statement: SQLAlchemy's AsyncConnection refuses a statement during
    which its greenlet never awaited (AwaitRequired). Returns at once: no trip through the
    event loop, two greenlet switches."""


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


def _checkpoint(database: str, timeout_s: float) -> tuple[int, int, int]:
    """On a worker thread: (busy, frames in the log, frames copied into the database)."""
    conn = sqlite3.connect(database, timeout=timeout_s, check_same_thread=False)
    try:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)
    finally:
        conn.close()


class _Checkpoints:
    """One engine's checkpoints, off the loop (see the module docstring)."""

    def __init__(self) -> None:
        self.database: str | None = None  # a file; None: in memory, nothing to copy
        self.timeout_s = _DEFAULT_TIMEOUT_S
        self.commits = 0
        self.done = 0  # checkpoints run (tests)
        self.running: asyncio.Future[tuple[int, int, int]] | None = None

    def committed(self) -> None:
        self.commits += 1
        if self.database is None or self.commits < CHECKPOINT_EVERY:
            return
        loop = asyncio.get_running_loop()
        if self.running is not None:
            if self.running.get_loop() is loop:
                return  # one at a time
            self.running = None  # its loop closed before it ended (tests run many loops)
        self.commits = 0
        self.running = loop.run_in_executor(None, _checkpoint, self.database, self.timeout_s)
        self.running.add_done_callback(self._ended)

    def _ended(self, future: asyncio.Future[tuple[int, int, int]]) -> None:
        self.running = None
        if not future.cancelled() and future.exception() is None:
            self.done += 1
        # A failed checkpoint (the file went away, a lock held too long) is retried by the
        # next one; SQLite's log only grows meanwhile.


class _InlineCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _statement(self, fn: Any, operation: str, parameters: Any) -> None:
        adapted = cast(_InlineConnection, self._adapt_connection)
        if adapted._turn is None and _writes(operation):
            adapted._take_turn()
        try:
            result: _Result = adapted._call(fn, operation, parameters)
        except BaseException:
            adapted._end_turn_unless_in_transaction()
            raise
        description, rows, lastrowid, rowcount, in_transaction = result
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
            self._statement(_run, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            self._statement(_run_many, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def execute_and_commit(self, operation: Any, parameters: Any = None) -> None:
        try:
            self._statement(_run_and_commit, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany_and_commit(self, operation: Any, seq_of_parameters: Any) -> None:
        try:
            self._statement(_run_many_and_commit, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _InlineConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_checkpoints", "_open", "_timeout", "_turn", "_turns")

    def __init__(
        self,
        dbapi: Any,
        connection: Any,
        turns: _WriterTurns,
        checkpoints: _Checkpoints,
        timeout: float,
    ) -> None:
        super().__init__(dbapi, connection)
        self._turns = turns
        self._checkpoints = checkpoints
        self._timeout = timeout
        self._turn: _Turn | None = None  # held from the first write to the end
        # False only when the last statement said no transaction is open (then a COMMIT
        # would be for nothing); True when open or not known.
        self._open = True

    def _call(self, fn: Any, *args: Any) -> Any:
        """``fn`` on this thread; on a lock held elsewhere, again on the database thread
        where it may wait (see the module docstring)."""
        connection: Any = self._connection  # an aiosqlite.Connection
        conn = connection._conn
        wrote = self._turn is not None
        self.await_(_passed())
        try:
            result = fn(conn, *args)
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
            result = self.await_(
                connection._execute(_waiting, conn, int(self._timeout * 1000), fn, *args)
            )
        if wrote and not conn.in_transaction:
            self._checkpoints.committed()
        return result

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            self._open = True  # its statements do not report back: not known any more
            return super().cursor(server_side=True)
        return _InlineCursor(self)

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
            in_transaction = bool(connection._conn.in_transaction)
        except Exception:
            in_transaction = False  # the connection is gone: so is its transaction
        self._open = in_transaction
        if not in_transaction:
            self._end_turn()

    def rollback(self) -> None:
        try:
            if self._open:
                self._call(_rollback)
        except Exception as error:
            self._handle_exception(error)
        finally:
            self._end_turn()

    def commit(self) -> None:
        if not self._open:  # committed with the last write, or nothing was written
            self._end_turn()
            return
        try:
            self._call(_commit)
            self._open = False
        except Exception as error:
            # A COMMIT that failed may leave the transaction open: SQLAlchemy rolls it back.
            self._end_turn_unless_in_transaction()
            self._handle_exception(error)
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


def _file_of(database: Any) -> str | None:
    """The database file a connection opens; None for an in-memory one."""
    name = str(database)
    if name in ("", ":memory:") or name.startswith("file::memory:") or "mode=memory" in name:
        return None
    return name


class _InlineDbapi(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)
        self._turns = _WriterTurns()
        self.checkpoints = _Checkpoints()

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        if kw.get("async_fallback"):
            return super().connect(*arg, **kw)  # left as SQLAlchemy makes it
        timeout = float(kw.get("timeout", _DEFAULT_TIMEOUT_S))
        # Opened on aiosqlite's thread, used on the loop's; waits only on aiosqlite's.
        kw.update(timeout=0, check_same_thread=False)
        adapted = super().connect(*arg, **kw)
        # A file by URI keeps SQLite's own checkpoints: a plain path is what _checkpoint opens.
        database = None if kw.get("uri") else _file_of(arg[0] if arg else kw.get("database"))
        conn: sqlite3.Connection = adapted._connection._conn
        if database is not None:
            conn.execute("PRAGMA wal_autocheckpoint=0")  # _Checkpoints does it, off the loop
            self.checkpoints.database = database
            self.checkpoints.timeout_s = timeout
        return _InlineConnection(self, adapted._connection, self._turns, self.checkpoints, timeout)


COMMIT_WITH_WRITE = "sqlite_commit_with_write"


def commit_with_write(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """SQLAlchemy's ``do_execute`` event: a statement given ``COMMIT_WITH_WRITE`` runs with
    its COMMIT (True: done here); any other, as usual."""
    if not isinstance(cursor, _InlineCursor) or not context.execution_options.get(
        COMMIT_WITH_WRITE
    ):
        return False
    cursor.execute_and_commit(statement, parameters)
    return True


def commit_many_with_write(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """The same for ``do_executemany``."""
    if not isinstance(cursor, _InlineCursor) or not context.execution_options.get(
        COMMIT_WITH_WRITE
    ):
        return False
    cursor.executemany_and_commit(statement, parameters)
    return True


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """One per engine: its writers take turns, its checkpoints are its own (see the module
    docstring)."""
    return _InlineDbapi()
