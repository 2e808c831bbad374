"""What handling updates costs the storage, counted from outside the bot.

``DbCosts(engine)`` listens to one SQLAlchemy engine: commits, reads of the users and
fsm_records tables (a statement joining both counts as a read of each), and *state
writes* — transactions that wrote fsm_records (a commit of a transaction that inserted,
updated or deleted conversation rows counts once, however many rows or statements it
held). ``RedisCosts()`` counts the Redis round trips of the
conversation state (keys ``fsm:…``, locks excluded): reads (GET/MGET/EVALSHA…) and writes
(a SET/DEL sent alone, or one pipeline holding any). Both only observe: they work on any
version of the bot, so a benchmark can print before/after figures and a test can pin them.

    costs = DbCosts(engine)
    before = costs.snapshot()
    ...                                 # one update
    assert (costs.snapshot() - before).commits == 1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_WRITES = ("insert", "update", "delete")
_MARK = "update_costs_state_write"


@dataclass(frozen=True)
class Costs:
    commits: int = 0
    user_reads: int = 0  # SELECTs from the users table
    state_reads: int = 0  # SELECTs of fsm_records / Redis reads of fsm:… keys
    state_writes: int = 0  # transactions (SQL) or round trips (Redis) that wrote state

    def __sub__(self, other: Costs) -> Costs:
        return Costs(
            **{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)}
        )

    def __add__(self, other: Costs) -> Costs:
        return Costs(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def per(self, updates: int) -> dict[str, float]:
        return {f.name: getattr(self, f.name) / max(updates, 1) for f in fields(self)}


class DbCosts:
    """Counts on ``engine`` from now on (until ``close()``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sync_engine = engine.sync_engine
        self.commits = self.user_reads = self.state_reads = self.state_writes = 0
        self._listeners: list[tuple[str, Any]] = [
            ("before_cursor_execute", self._on_statement),
            ("commit", self._on_commit),
            ("rollback", self._on_rollback),
        ]
        for name, fn in self._listeners:
            event.listen(self.sync_engine, name, fn)

    def close(self) -> None:
        for name, fn in self._listeners:
            event.remove(self.sync_engine, name, fn)

    def snapshot(self) -> Costs:
        return Costs(self.commits, self.user_reads, self.state_reads, self.state_writes)

    def _on_statement(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        text = " ".join(statement.lower().split())
        if text.startswith("select"):
            # A table read FROM or JOINed: one statement may read both (bot/fsm_storage.py).
            if " from users" in text or " join users " in text:
                self.user_reads += 1
            if " from fsm_records" in text or " join fsm_records " in text:
                self.state_reads += 1
        elif text.startswith(_WRITES) and "fsm_records" in text.split(" where ", 1)[0]:
            conn.info[_MARK] = True

    def _on_commit(self, conn: Any) -> None:
        self.commits += 1
        if conn.info.pop(_MARK, False):
            self.state_writes += 1

    def _on_rollback(self, conn: Any) -> None:
        conn.info.pop(_MARK, None)


_REDIS_READS = frozenset({"GET", "MGET", "EVALSHA", "EVAL", "HGET", "HGETALL", "EXISTS"})
_REDIS_WRITES = frozenset({"SET", "SETEX", "DEL", "UNLINK", "MSET", "EXPIRE", "HSET"})


def _state_keys(args: tuple[Any, ...]) -> list[str]:
    name = str(args[0]).upper()
    if name in ("EVALSHA", "EVAL"):
        keys = args[3 : 3 + int(args[2])]
    else:
        keys = args[1:] if name in ("MGET", "DEL", "UNLINK", "EXISTS") else args[1:2]
    decoded = [k.decode() if isinstance(k, bytes) else str(k) for k in keys]
    return [k for k in decoded if k.startswith("fsm:") and not k.endswith(":lock")]


class RedisCosts:
    """Counts the conversation state's Redis round trips of every redis.asyncio client while
    ``installed()`` is active (class-level patch: the bot builds its own clients)."""

    def __init__(self) -> None:
        self.reads = self.writes = 0

    def snapshot(self) -> Costs:
        return Costs(state_reads=self.reads, state_writes=self.writes)

    @contextmanager
    def installed(self) -> Iterator[RedisCosts]:
        from redis.asyncio.client import Pipeline, Redis

        costs = self
        execute_command = Redis.execute_command
        execute = Pipeline.execute

        async def counted_command(client: Any, *args: Any, **options: Any) -> Any:
            name = str(args[0]).upper()
            if _state_keys(args):
                if name in _REDIS_WRITES:
                    costs.writes += 1
                elif name in _REDIS_READS:
                    costs.reads += 1
            return await execute_command(client, *args, **options)

        async def counted_pipeline(pipe: Any, raise_on_error: bool = True) -> Any:
            names = [str(args[0]).upper() for args, _ in pipe.command_stack if _state_keys(args)]
            if any(n in _REDIS_WRITES for n in names):
                costs.writes += 1
            elif any(n in _REDIS_READS for n in names):
                costs.reads += 1
            return await execute(pipe, raise_on_error)

        Redis.execute_command = counted_command  # type: ignore[method-assign]
        Pipeline.execute = counted_pipeline  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Redis.execute_command = execute_command  # type: ignore[method-assign]
            Pipeline.execute = execute  # type: ignore[method-assign]


_SQLITE_CALLS = (
    "_run",
    "_run_many",
    "_run_and_commit",
    "_run_many_and_commit",
    "_commit",
    "_rollback",
)


@contextmanager
def sqlite_calls() -> Iterator[list[str]]:
    """What storage/sqlite_async.py asked of SQLite meanwhile, one name per call: ``run`` and
    ``run_many`` (a statement), ``run_and_commit``/``run_many_and_commit`` (a write carrying
    its COMMIT), ``commit``, ``rollback``; and ``thread`` for each trip to aiosqlite's
    database thread (a statement that met a lock held elsewhere waits there)."""
    import aiosqlite

    from storage import sqlite_async

    seen: list[str] = []
    originals = {name: getattr(sqlite_async, name) for name in _SQLITE_CALLS}
    depth = [0]  # _run_and_commit calls _run: one call

    def counted(name: str, fn: Any) -> Any:
        def call(*args: Any) -> Any:
            if not depth[0]:
                seen.append(name.lstrip("_"))
            depth[0] += 1
            try:
                return fn(*args)
            finally:
                depth[0] -= 1

        call.__name__ = fn.__name__
        return call

    queue = aiosqlite.Connection._execute

    async def trip(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append("thread")
        return await queue(self, fn, *args, **kwargs)

    for name, fn in originals.items():
        setattr(sqlite_async, name, counted(name, fn))
    aiosqlite.Connection._execute = trip  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        for name, fn in originals.items():
            setattr(sqlite_async, name, fn)
        aiosqlite.Connection._execute = queue  # type: ignore[method-assign]
