"""SQLite through storage.db's engine: statements on the event loop's thread, with rows,
row counts, last row ids and errors as SQLAlchemy's own adapter gives them; a lock held
elsewhere waited for on aiosqlite's thread, never on the loop's; writers of the process
take turns before SQLite (no waiting in its busy handler); checkpoints off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import sqlite_async
from storage.db import create_engine
from storage.sqlite_async import COMMIT_WITH_WRITE
from tests.storage.conftest import wait_for
from tests.update_costs import sqlite_calls


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def hops() -> Iterator[list[str]]:
    """The calls to SQLite, by name; "thread" for a trip to aiosqlite's thread."""
    with sqlite_calls() as seen:
        yield seen


async def test_a_statement_is_one_call_on_the_loops_thread_and_a_transaction_one_more(
    sqlite_engine: AsyncEngine, hops: list[str]
) -> None:
    async with sqlite_engine.connect() as conn:  # a pooled connection: no connect below
        await conn.execute(text("SELECT 1"))
        await conn.rollback()
    hops.clear()

    async with sqlite_engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
    # Three statements, the commit; no ROLLBACK as the connection went back to the pool;
    # no trip to aiosqlite's thread.
    assert hops == ["run", "run_many", "run", "commit"], hops
    assert inserted.lastrowid == 1 and many.rowcount == 2
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


async def test_errors_are_the_drivers_own(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with sqlite_engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    async with sqlite_engine.connect() as conn:  # the failed transaction left nothing open
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1


def _waiting_writers(engine: AsyncEngine) -> int:
    """Writers of this engine waiting for their turn (the turn is the adapter's own)."""
    turn = engine.dialect.loaded_dbapi._turns.turn()
    return sum(not waiter.done() for waiter in turn.waiters)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL sent to SQLite, in order, and each COMMIT."""
    seen: list[str] = []
    run, commit = sqlite_async._run, sqlite_async._commit

    def recorded_run(conn: sqlite3.Connection, operation: str, parameters: Any) -> Any:
        seen.append(operation)
        return run(conn, operation, parameters)

    def recorded_commit(conn: sqlite3.Connection) -> None:
        seen.append("COMMIT")
        commit(conn)

    monkeypatch.setattr(sqlite_async, "_run", recorded_run)
    monkeypatch.setattr(sqlite_async, "_commit", recorded_commit)
    yield seen


async def _insert(conn: AsyncConnection, name: str) -> None:
    await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), {"name": name})


async def test_writers_wait_for_their_turn_before_sqlite_first_come_first_served(
    sqlite_engine: AsyncEngine, statements: list[str]
) -> None:
    async with sqlite_engine.connect() as first:
        await _insert(first, "a")  # the turn is the first connection's until it commits

        async def writer(name: str) -> None:
            async with sqlite_engine.begin() as conn:
                await _insert(conn, name)

        waiting: list[asyncio.Task[None]] = []
        for name in ("b", "c", "d"):

            async def parked(count: int = len(waiting) + 1) -> bool:
                return _waiting_writers(sqlite_engine) == count

            waiting.append(asyncio.create_task(writer(name)))
            await wait_for(parked, f"writer {name} waiting for its turn")
        # Parked in the process, not sleeping in SQLite's busy handler: their INSERTs have
        # not been sent yet.
        assert statements.count("INSERT INTO t (name) VALUES (?)") == 1, statements
        await first.commit()
        await asyncio.gather(*waiting)
    commit = statements.index("COMMIT")
    inserts = [i for i, s in enumerate(statements) if s.startswith("INSERT")]
    assert len(inserts) == 4 and all(i > commit for i in inserts[1:]), statements
    async with sqlite_engine.connect() as conn:
        rows = await conn.execute(text("SELECT name FROM t ORDER BY id"))
        assert rows.scalars().all() == ["a", "b", "c", "d"]  # in the order they came


async def test_a_turn_ends_with_the_transaction_however_it_ends(
    sqlite_engine: AsyncEngine,
) -> None:
    async with sqlite_engine.begin() as conn:
        await _insert(conn, "a")
    # A failed write inside a transaction keeps the turn until the rollback.
    with pytest.raises(IntegrityError):
        async with sqlite_engine.begin() as conn:
            await _insert(conn, "b")
            await _insert(conn, "a")
    # A transaction closed without a commit (returned to the pool) ends it too.
    async with sqlite_engine.connect() as conn:
        await _insert(conn, "c")
    # Written in autocommit: the statement is the transaction.
    async with sqlite_engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await _insert(auto, "d")
        assert _waiting_writers(sqlite_engine) == 0
        names = (await auto.execute(text("SELECT name FROM t ORDER BY name"))).scalars().all()
    assert names == ["a", "d"]
    # Nobody holds the turn: a writer goes straight through.
    async with asyncio.timeout(5), sqlite_engine.begin() as conn:
        await _insert(conn, "e")


@pytest.fixture
async def impatient_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine whose busy timeout is 50 ms, on busy.db."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}", sqlite_busy_timeout_ms=50)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_a_writer_that_waits_past_the_busy_timeout_fails_as_sqlite_would(
    impatient_engine: AsyncEngine,
) -> None:
    engine = impatient_engine
    async with engine.connect() as first:
        await _insert(first, "a")
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as second:
                await _insert(second, "b")
        await first.commit()
    async with engine.begin() as conn:  # the failed wait took no turn with it
        await _insert(conn, "c")
        rows = (await conn.execute(text("SELECT name FROM t ORDER BY name"))).scalars()
        assert rows.all() == ["a", "c"]


async def test_a_last_write_carries_its_commit_in_the_same_call(
    sqlite_engine: AsyncEngine, hops: list[str]
) -> None:
    async with sqlite_engine.connect() as one, sqlite_engine.connect() as two:  # pooled
        for warm in (one, two):
            await warm.execute(text("SELECT 1"))
            await warm.rollback()
    hops.clear()
    commits: list[str] = []
    event.listen(sqlite_engine.sync_engine, "commit", lambda _conn: commits.append("commit"))

    async with sqlite_engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"),
            [{"name": "b"}, {"name": "c"}],
            execution_options={COMMIT_WITH_WRITE: True},
        )
        # Committed with that statement: another writer gets the turn and sees the rows
        # before this connection's own commit is called.
        async with sqlite_engine.begin() as other:
            await other.execute(text("INSERT INTO t (name) VALUES ('d')"))
            seen = (await other.execute(text("SELECT count(*) FROM t"))).scalar()
        assert seen == 4
        await conn.commit()  # SQLAlchemy's commit, with its events: no call of its own
    assert commits == ["commit", "commit"]
    assert hops == ["run", "run_many_and_commit", "run", "run", "commit"], hops


async def test_the_commit_after_a_committed_write_opens_nothing(
    sqlite_engine: AsyncEngine, hops: list[str]
) -> None:
    async with sqlite_engine.connect() as conn:
        await conn.execute(
            text("INSERT INTO t (name) VALUES ('a')"), execution_options={COMMIT_WITH_WRITE: True}
        )
        await conn.commit()
        hops.clear()
        # A later statement on the same connection starts a transaction as usual, and its
        # end is a call again.
        await conn.execute(text("INSERT INTO t (name) VALUES ('b')"))
        await conn.rollback()
    assert hops == ["run", "rollback"], hops
    async with sqlite_engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["a"]


async def test_a_lock_held_elsewhere_is_waited_for_off_the_loop(
    sqlite_engine: AsyncEngine, tmp_path: Path, hops: list[str]
) -> None:
    """Another process (here a plain connection) holds the write lock: the engine's write
    fails at once on the loop's thread, waits on aiosqlite's in SQLite's busy handler while
    the loop goes on, and goes through when the lock is let go."""
    elsewhere = sqlite3.connect(tmp_path / "hops.db", isolation_level=None)
    try:
        elsewhere.execute("BEGIN IMMEDIATE")
        elsewhere.execute("INSERT INTO t (name) VALUES ('elsewhere')")

        async def write() -> None:
            async with sqlite_engine.begin() as conn:
                await _insert(conn, "mine")

        task = asyncio.create_task(write())

        async def waiting_on_the_thread() -> bool:
            return "thread" in hops

        await wait_for(waiting_on_the_thread, "the write waiting on aiosqlite's thread")
        ticks = 0
        for _ in range(3):  # the loop is free meanwhile
            await asyncio.sleep(0)
            ticks += 1
        assert ticks == 3 and not task.done()
        elsewhere.execute("COMMIT")
        await asyncio.wait_for(task, 5)
    finally:
        elsewhere.close()
    assert hops[hops.index("thread") - 1 : hops.index("thread") + 2] == ["run", "thread", "run"]
    async with sqlite_engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        # Back to failing at once on the loop's thread for the next one.
        assert (await conn.scalar(text("PRAGMA busy_timeout"))) == 0
    assert names == ["elsewhere", "mine"]


async def test_a_lock_held_elsewhere_past_the_busy_timeout_fails_as_sqlite_would(
    impatient_engine: AsyncEngine, tmp_path: Path
) -> None:
    elsewhere = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    try:
        elsewhere.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            async with impatient_engine.begin() as conn:
                await _insert(conn, "a")
        elsewhere.execute("ROLLBACK")
    finally:
        elsewhere.close()
    async with asyncio.timeout(5), impatient_engine.begin() as conn:  # the turn went with it
        await _insert(conn, "b")
        rows = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    assert rows == ["b"]


async def test_checkpoints_run_off_the_loop_every_so_many_commits(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own checkpoint would run inside a COMMIT, on the loop: it is off, and the
    engine's runs on a worker thread every CHECKPOINT_EVERY commits."""
    monkeypatch.setattr(sqlite_async, "CHECKPOINT_EVERY", 3)
    threads: list[int] = []
    results: list[tuple[int, int, int]] = []
    checkpoint = sqlite_async._checkpoint

    def recorded(database: str, timeout_s: float) -> tuple[int, int, int]:
        threads.append(threading.get_ident())
        results.append(checkpoint(database, timeout_s))
        return results[-1]

    monkeypatch.setattr(sqlite_async, "_checkpoint", recorded)
    checkpoints = sqlite_engine.dialect.loaded_dbapi.checkpoints
    checkpoints.commits = 0
    for name in ("a", "b"):
        async with sqlite_engine.begin() as conn:
            await _insert(conn, name)
        async with sqlite_engine.connect() as conn:  # a read commits nothing
            await conn.execute(text("SELECT 1"))
            await conn.commit()
    assert checkpoints.running is None and threads == []
    async with sqlite_engine.connect() as conn:
        await conn.execute(
            text("INSERT INTO t (name) VALUES ('c')"), execution_options={COMMIT_WITH_WRITE: True}
        )
        await conn.commit()
    assert checkpoints.running is not None
    await checkpoints.running
    assert checkpoints.done == 1 and threads and threads[0] != threading.get_ident()
    busy, frames, copied = results[0]
    assert busy == 0 and frames > 0 and copied == frames  # the whole log, into the file


async def test_a_checkpoint_left_behind_by_a_closed_loop_does_not_stop_the_next(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine outliving the loop of a checkpoint that never reported back (its loop closed
    first) checkpoints again on the loop it now runs in."""
    monkeypatch.setattr(sqlite_async, "CHECKPOINT_EVERY", 1)
    checkpoints = sqlite_engine.dialect.loaded_dbapi.checkpoints
    old_loop = asyncio.new_event_loop()
    checkpoints.running = old_loop.create_future()  # never done: its loop is gone
    old_loop.close()
    done = checkpoints.done
    async with sqlite_engine.begin() as conn:
        await _insert(conn, "a")
    assert checkpoints.running is not None
    assert checkpoints.running.get_loop() is asyncio.get_running_loop()
    await checkpoints.running
    assert checkpoints.done == done + 1
