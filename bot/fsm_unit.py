"""Conversation state read once and written once per update, inside the update's transaction.

aiogram's FSM middleware and aiogram-dialog go through the storage many times per update:
the FSM state, the dialog stack and its context are read; after the handler the context and
the stack are written back, a finished dialog's context removed… Each call used to be a
transaction of its own (SQL) or a round trip (Redis). Now an update has a ``StateUnit``
(``bind_unit``; ``UnitStorage`` finds it through a context variable, for the update's own
task only):

- its first read loads what the update will need (``StateIO.prefetch``: on SQL every record
  of this user in this chat in one SELECT, on Redis the FSM state, the dialog stack and its
  top context in one script call); nothing is read twice;
- writes stay in the unit; ``commit()`` writes what changed, once: on SQL through the
  update's session just before its one commit, on Redis in one MULTI/EXEC right after that
  commit (the handler's work first, then the state, as before). An update that changed
  nothing writes nothing. On an error nothing of the state is written.

Outside an update (jobs, tests, the error handler after a failed update) the storage reads
and writes directly, each call on its own, as before.

Durability and isolation are unchanged: aiogram's lock is held around the whole update
(bot/middlewares/database.py) and aiogram-dialog's stack lock until the unit has committed
(``DeferredIsolation``), so the next update of the same user reads what this one wrote, and
the state is stored before the update is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession

Part = Literal["state", "data"]
# A stored value: the state name (or None) for "state", encoded JSON ("{}": none) for "data".
Value = str | None
EMPTY_DATA = "{}"
_EMPTY: dict[Part, Value] = {"state": None, "data": EMPTY_DATA}


def canonical(key: StorageKey) -> StorageKey:
    """One key per record: "no thread" and "no business connection" are None (not 0, "")."""
    if key.thread_id == 0 or key.business_connection_id == "":
        return replace(
            key,
            thread_id=key.thread_id or None,
            business_connection_id=key.business_connection_id or None,
        )
    return key


@dataclass
class Prefetch:
    """What a first read loaded: values by (key, part); ``covers(key)``: every record of that
    key would have been loaded, so a key missing from ``values`` holds nothing."""

    values: dict[tuple[StorageKey, Part], Value]
    covers: Callable[[StorageKey], bool] = lambda _key: False


class StateIO(Protocol):
    """A backend as the unit uses it."""

    @property
    def in_transaction(self) -> bool:
        """True: ``write`` goes through the update's session before its commit (SQL);
        False: after the commit, on its own (Redis)."""

    def encode(self, data: Mapping[str, Any]) -> str: ...

    def decode(self, raw: str) -> dict[str, Any]: ...

    async def prefetch(self, unit: StateUnit, key: StorageKey) -> Prefetch: ...

    async def read(self, unit: StateUnit, key: StorageKey, part: Part) -> Value: ...

    async def write(self, unit: StateUnit, changes: dict[StorageKey, dict[Part, Value]]) -> None:
        """Store ``changes`` (only the parts that changed); ``unit.value`` gives the rest."""


@dataclass
class StateUnit:
    """One update's view of the conversation state (see the module docstring)."""

    session: AsyncSession
    # The update's Telegram user: a backend that can (SQL) reads their stored row in the
    # same statement as the state, into the session, where the user middleware finds it.
    user_id: int | None = None
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    open: bool = True
    _storage: UnitStorage | None = None
    _stored: dict[tuple[StorageKey, Part], Value] = field(default_factory=dict)
    _pending: dict[tuple[StorageKey, Part], Value] = field(default_factory=dict)
    _covers: list[Callable[[StorageKey], bool]] = field(default_factory=list)
    _prefetched: bool = False
    _releases: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def serves(self, storage: UnitStorage) -> bool:
        """True when ``storage`` may use this unit now (this update's task, still open)."""
        if not self.open or asyncio.current_task() is not self.task:
            return False
        if self._storage is None:
            self._storage = storage
        return self._storage is storage

    async def value(self, key: StorageKey, part: Part) -> Value:
        """The value as this update sees it: its own write, else what is stored."""
        slot = (key, part)
        if slot in self._pending:
            return self._pending[slot]
        return await self._stored_value(key, part)

    async def _stored_value(self, key: StorageKey, part: Part) -> Value:
        slot = (key, part)
        if slot in self._stored:
            return self._stored[slot]
        assert self._storage is not None
        io = self._storage.io
        if not self._prefetched:
            self._prefetched = True
            loaded = await io.prefetch(self, key)
            self._stored.update(loaded.values)
            self._covers.append(loaded.covers)
            if slot in self._stored:
                return self._stored[slot]
        if any(covers(key) for covers in self._covers):
            value = _EMPTY[part]
        else:
            value = await io.read(self, key, part)
        self._stored[slot] = value
        return value

    def put(self, key: StorageKey, part: Part, value: Value) -> None:
        self._pending[(key, part)] = value

    def defer_release(self, release: Callable[[], Awaitable[Any]]) -> None:
        self._releases.append(release)

    def _changes(self) -> dict[StorageKey, dict[Part, Value]]:
        changes: dict[StorageKey, dict[Part, Value]] = {}
        for (key, part), value in self._pending.items():
            if (key, part) in self._stored and self._stored[(key, part)] == value:
                continue  # written back as it was read: nothing to store
            changes.setdefault(key, {})[part] = value
        return changes

    async def commit(self) -> None:
        """Store what changed and commit the update's session (see the module docstring)."""
        io = self._storage.io if self._storage is not None else None
        changes = self._changes() if io is not None else {}
        if io is not None and changes and io.in_transaction:
            await io.write(self, changes)
        await self.session.commit()
        if io is not None and changes and not io.in_transaction:
            await io.write(self, changes)
        self.open = False
        self._stored.update(self._pending)
        self._pending.clear()

    async def rollback(self) -> None:
        """Nothing of the state is written; the update's session rolls back.

        The rows it loaded are detached first, so the rollback does not expire them: the
        error handler, after this session is closed, still reads ``db_user`` as loaded.
        """
        self.open = False
        self._pending.clear()
        self.session.expunge_all()
        await self.session.rollback()

    async def release(self) -> None:
        """Release the locks held back for this unit (last taken, first released)."""
        self.open = False
        while self._releases:
            await self._releases.pop()()


_current: ContextVar[StateUnit | None] = ContextVar("fsm_state_unit", default=None)


def bind_unit(unit: StateUnit) -> Token[StateUnit | None]:
    return _current.set(unit)


def unbind_unit(token: Token[StateUnit | None]) -> None:
    _current.reset(token)


def current_unit() -> StateUnit | None:
    """The unit of the update being handled by this task, while it is open."""
    unit = _current.get()
    if unit is None or not unit.open or asyncio.current_task() is not unit.task:
        return None
    return unit


class UnitStorage(BaseStorage):
    """aiogram's storage interface over ``backend`` (direct calls) and ``io`` (the unit's
    reads and writes of the same records)."""

    def __init__(self, backend: BaseStorage, io: StateIO) -> None:
        self.backend = backend
        self.io = io

    def _unit(self) -> StateUnit | None:
        unit = _current.get()
        return unit if unit is not None and unit.serves(self) else None

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        unit = self._unit()
        if unit is None:
            await self.backend.set_state(key, state)
            return
        unit.put(canonical(key), "state", state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        unit = self._unit()
        if unit is None:
            return await self.backend.get_state(key)
        return await unit.value(canonical(key), "state")

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        unit = self._unit()
        if unit is None:
            await self.backend.set_data(key, data)
            return
        # Encoded now, as the backend would: unserialisable data fails here, loudly.
        unit.put(canonical(key), "data", self.io.encode(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        unit = self._unit()
        if unit is None:
            return await self.backend.get_data(key)
        raw = await unit.value(canonical(key), "data")
        # Decoded per call: each caller gets its own copy, as from the backend.
        return self.io.decode(raw) if raw else {}

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        if self._unit() is None:
            return await self.backend.update_data(key, data)
        # In an update the user's lock is held until the unit commits: read, merge, write.
        current = await self.get_data(key)
        current.update(data)
        await self.set_data(key, current)
        return current.copy()

    async def close(self) -> None:
        await self.backend.close()


class DeferredIsolation(BaseEventIsolation):
    """aiogram-dialog's stack lock, released only once the update's unit has committed.

    aiogram-dialog releases it when the event's handlers are done, before the state they
    changed is stored by the unit; another update of the same stack must not read it then.
    Outside an update (or when the body raised) the lock is released at once, as before.
    """

    def __init__(self, inner: BaseEventIsolation) -> None:
        self.inner = inner

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self.inner.lock(key))
            yield None
            unit = current_unit()
            if unit is not None:
                unit.defer_release(stack.pop_all().aclose)

    async def close(self) -> None:
        await self.inner.close()
