"""aiogram FSM storage on the bot's database, so a restart mid-conversation loses nothing.

``SqlStorage``: each call its own short transaction (jobs, tests, outside updates).
``SqlStateIO``: the same records read and written through an update's own session
(bot/fsm_unit.py: read once, written once, in the update's transaction).

In bot/, not storage/: it is an aiogram interface (storage knows nothing of Telegram) over
the fsm_records table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_unit import EMPTY_DATA, Part, Prefetch, StateUnit, UnitStorage, Value
from storage.db import utcnow
from storage.models import NO_BUSINESS_CONNECTION, NO_THREAD, FsmRecord
from storage.repositories._sql import dialect_insert, insert_ignore, upsert

_KEY_NAMES = ("bot_id", "chat_id", "user_id", "thread_id", "business_connection_id", "destiny")


def _key_columns(key: StorageKey) -> dict[str, Any]:
    # Every field of StorageKey: aiogram-dialog keeps its stacks under their own destinies.
    return {
        "bot_id": key.bot_id,
        "chat_id": key.chat_id,
        "user_id": key.user_id,
        "thread_id": key.thread_id if key.thread_id is not None else NO_THREAD,
        "business_connection_id": key.business_connection_id or NO_BUSINESS_CONNECTION,
        "destiny": key.destiny,
    }


def _state_name(state: StateType) -> str | None:
    if isinstance(state, State):
        return state.state
    return state


class SqlStorage(BaseStorage):
    """State and data per StorageKey; data is JSON, so unserialisable data fails loudly.

    Each call runs in its own short transaction from `session_factory`. The engine belongs
    to the application: `close()` does not dispose it.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @staticmethod
    def _where(key: StorageKey) -> Any:
        cols = _key_columns(key)
        return and_(*(getattr(FsmRecord, name) == value for name, value in cols.items()))

    async def _write(self, session: AsyncSession, key: StorageKey, **values: Any) -> None:
        now = utcnow()
        await session.execute(
            upsert(
                session,
                FsmRecord,
                {**_key_columns(key), "state": None, "data": "{}", "updated_at": now, **values},
                list(_key_columns(key)),
                {**values, "updated_at": now},
            )
        )
        if values.get("state") is not None or values.get("data", "{}") != "{}":
            return  # the row now holds something: the clean-up below cannot match it
        # An empty record is the same as none: keep the table to live conversations.
        await session.execute(
            delete(FsmRecord).where(
                self._where(key), FsmRecord.state.is_(None), FsmRecord.data == "{}"
            )
        )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self.session_factory() as session, session.begin():
            await self._write(session, key, state=_state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.session_factory() as session:
            state: str | None = await session.scalar(
                select(FsmRecord.state).where(self._where(key))
            )
            return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        encoded = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))
        async with self.session_factory() as session, session.begin():
            await self._write(session, key, data=encoded)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.session_factory() as session:
            raw = await session.scalar(select(FsmRecord.data).where(self._where(key)))
        return {} if raw is None else _decode(raw)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        """Read, merge and write in one transaction, the record locked before the read.

        The lock is an INSERT … ON CONFLICT DO NOTHING of an empty record: on SQLite any
        write statement takes the database write lock (pysqlite opens the transaction only
        at the first write, so a SELECT … FOR UPDATE alone locks nothing and two merges
        could both read the old data); on PostgreSQL it makes a record to lock when the key
        is new (FOR UPDATE locks no absent row), and a concurrent insert of the same key
        waits for ours. An empty record left by a merge of nothing is removed by `_write`.
        """
        async with self.session_factory() as session, session.begin():
            await session.execute(
                insert_ignore(
                    session,
                    FsmRecord,
                    {**_key_columns(key), "state": None, "data": "{}", "updated_at": utcnow()},
                    list(_key_columns(key)),
                )
            )
            raw = await session.scalar(
                select(FsmRecord.data).where(self._where(key)).with_for_update()
            )
            current: dict[str, Any] = json.loads(raw) if raw else {}
            current.update(data)
            encoded = json.dumps(current, ensure_ascii=False, separators=(",", ":"))
            await self._write(session, key, data=encoded)
        return current.copy()

    async def close(self) -> None:
        """Nothing to release: the engine is the application's."""


def _decode(raw: str) -> dict[str, Any]:
    decoded = json.loads(raw)
    if not isinstance(decoded, dict):
        raise ValueError("FSM data is not a JSON object")
    return decoded


class SqlStateIO:
    """The unit's reads and writes of fsm_records, through the update's session."""

    in_transaction = True

    def encode(self, data: Mapping[str, Any]) -> str:
        return json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))

    def decode(self, raw: str) -> dict[str, Any]:
        return _decode(raw)

    async def prefetch(self, unit: StateUnit, key: StorageKey) -> Prefetch:
        """Every record of this user in this chat (the FSM state, aiogram-dialog's stack and
        contexts are keyed by user or by chat): one SELECT on the primary key's prefix."""
        cols = _key_columns(key)
        users = {key.user_id, key.chat_id}
        rows = await unit.session.execute(
            select(FsmRecord.user_id, FsmRecord.destiny, FsmRecord.state, FsmRecord.data).where(
                FsmRecord.bot_id == key.bot_id,
                FsmRecord.chat_id == key.chat_id,
                FsmRecord.user_id.in_(users),
                FsmRecord.thread_id == cols["thread_id"],
                FsmRecord.business_connection_id == cols["business_connection_id"],
            )
        )
        values: dict[tuple[StorageKey, Part], Value] = {}
        for user_id, destiny, state, data in rows:
            found = StorageKey(
                bot_id=key.bot_id,
                chat_id=key.chat_id,
                user_id=user_id,
                thread_id=key.thread_id,
                business_connection_id=key.business_connection_id,
                destiny=destiny,
            )
            values[(found, "state")] = state
            values[(found, "data")] = data

        def covers(other: StorageKey) -> bool:
            return (
                other.bot_id == key.bot_id
                and other.chat_id == key.chat_id
                and other.user_id in users
                and other.thread_id == key.thread_id
                and other.business_connection_id == key.business_connection_id
            )

        return Prefetch(values, covers)

    async def read(self, unit: StateUnit, key: StorageKey, part: Part) -> Value:
        column = FsmRecord.state if part == "state" else FsmRecord.data
        value: str | None = await unit.session.scalar(select(column).where(SqlStorage._where(key)))
        return value if value is not None or part == "state" else EMPTY_DATA

    async def write(self, unit: StateUnit, changes: dict[StorageKey, dict[Part, Value]]) -> None:
        """One multi-row upsert of the records that hold something, one DELETE of those left
        empty (an empty record is the same as none: the table keeps live conversations)."""
        now = utcnow()
        rows: list[dict[str, Any]] = []
        emptied: list[tuple[Any, ...]] = []
        for key, parts in changes.items():
            state = parts["state"] if "state" in parts else await unit.value(key, "state")
            data = parts["data"] if "data" in parts else await unit.value(key, "data")
            cols = _key_columns(key)
            if state is None and (data or EMPTY_DATA) == EMPTY_DATA:
                emptied.append(tuple(cols[name] for name in _KEY_NAMES))
            else:
                rows.append({**cols, "state": state, "data": data or EMPTY_DATA, "updated_at": now})
        session = unit.session
        if rows:
            stmt = dialect_insert(session, FsmRecord).values(rows)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=list(_KEY_NAMES),
                    set_={
                        "state": stmt.excluded.state,
                        "data": stmt.excluded.data,
                        "updated_at": stmt.excluded.updated_at,
                    },
                )
            )
        if emptied:
            columns = [getattr(FsmRecord, name) for name in _KEY_NAMES]
            await session.execute(
                delete(FsmRecord).where(
                    or_(
                        *(
                            and_(*(c == v for c, v in zip(columns, values, strict=True)))
                            for values in emptied
                        )
                    )
                )
            )


def sql_storage(session_factory: async_sessionmaker[AsyncSession]) -> UnitStorage:
    """The dispatcher's storage on the database: direct outside updates, unit inside."""
    return UnitStorage(SqlStorage(session_factory), SqlStateIO())
