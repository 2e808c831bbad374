"""aiogram FSM storage on the bot's database, so a restart mid-conversation loses nothing.

In bot/, not storage/: it is an aiogram interface (storage knows nothing of Telegram) over
the fsm_records table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import utcnow
from storage.models import NO_BUSINESS_CONNECTION, NO_THREAD, FsmRecord
from storage.repositories._sql import insert_ignore, upsert


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
        if raw is None:
            return {}
        decoded = json.loads(raw)
        if not isinstance(decoded, dict):
            raise ValueError("FSM data is not a JSON object")
        return decoded

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
