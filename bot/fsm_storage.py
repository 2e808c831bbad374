"""aiogram FSM storage on the bot's database, so a restart mid-conversation loses nothing.

``SqlStorage``: each call its own short transaction (jobs, tests, outside updates).
``SqlStateIO``: the same records read and written through an update's own session
(bot/fsm_unit.py: read once, written once, in the update's transaction).

In bot/, not storage/: it is an aiogram interface (storage knows nothing of Telegram) over
the fsm_records table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import BigInteger, Table, and_, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_unit import EMPTY_DATA, Part, Prefetch, StateUnit, UnitStorage, Value
from storage.db import UtcDateTime, utcnow
from storage.models import NO_BUSINESS_CONNECTION, NO_THREAD, FsmRecord, User
from storage.repositories._sql import insert_ignore, upsert
from storage.repositories.users import UserRepository
from storage.sqlite_async import COMMIT_WITH_WRITE

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


_TABLE = cast(Table, FsmRecord.__table__)
# Built once: an update runs them with its own values (no statement built per update).
_OF_USER_IN_CHAT = and_(
    _TABLE.c.bot_id == bindparam("bot_id"),
    _TABLE.c.chat_id == bindparam("chat_id"),
    _TABLE.c.user_id.in_([bindparam("user_id"), bindparam("chat_as_user")]),
    _TABLE.c.thread_id == bindparam("thread_id"),
    _TABLE.c.business_connection_id == bindparam("business_connection_id"),
)
_RECORD = (_TABLE.c.user_id, _TABLE.c.destiny, _TABLE.c.state, _TABLE.c.data)
_PREFETCH = select(*_RECORD).where(_OF_USER_IN_CHAT)
# The same, and the row of the update's user (None: a stranger), in one statement: what
# every update reads first (bot/fsm_unit.py, then bot/middlewares/access.py). Outer joins
# from a one-row select of the id, so an absent user or no state still gives a row.
_ID = select(bindparam("telegram_id", type_=BigInteger).label("id")).subquery("update_user")
_PREFETCH_WITH_USER = (
    select(User, *_RECORD)
    .select_from(_ID)
    .outerjoin(User, User.telegram_id == _ID.c.id)
    .outerjoin(_TABLE, _OF_USER_IN_CHAT)
)
_DELETE = delete(_TABLE).where(*(_TABLE.c[name] == bindparam(f"k_{name}") for name in _KEY_NAMES))
# Text, not an insert().on_conflict_do_update(): SQLAlchemy never caches the compiled form
# of those (inherit_cache = False), so every update compiled it anew. The same SQL serves
# SQLite and PostgreSQL.
_UPSERT = text(
    f"INSERT INTO fsm_records ({', '.join(_KEY_NAMES)}, state, data, updated_at) "
    f"VALUES ({', '.join(':' + name for name in _KEY_NAMES)}, :state, :data, :updated_at) "
    f"ON CONFLICT ({', '.join(_KEY_NAMES)}) DO UPDATE SET "
    "state = excluded.state, data = excluded.data, updated_at = excluded.updated_at"
).bindparams(bindparam("updated_at", type_=UtcDateTime()))


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
        params = {
            "bot_id": key.bot_id,
            "chat_id": key.chat_id,
            "user_id": key.user_id,
            "chat_as_user": key.chat_id,
            "thread_id": cols["thread_id"],
            "business_connection_id": cols["business_connection_id"],
        }
        records: Sequence[Sequence[Any]]
        if unit.user_id is None:
            records = (await unit.session.execute(_PREFETCH, params)).all()
        else:
            params["telegram_id"] = unit.user_id
            rows = (await unit.session.execute(_PREFETCH_WITH_USER, params)).all()
            UserRepository(unit.session).noted(unit.user_id, rows[0][0])
            records = [row[1:] for row in rows if row[2] is not None]  # [2]: destiny
        values: dict[tuple[StorageKey, Part], Value] = {}
        for user_id, destiny, state, data in records:
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
        """The records that hold something upserted, those left empty deleted (an empty
        record is the same as none: the table keeps live conversations); one statement
        each, for all the keys at once."""
        now = utcnow()
        rows: list[dict[str, Any]] = []
        emptied: list[dict[str, Any]] = []
        for key, parts in changes.items():
            state = parts["state"] if "state" in parts else await unit.value(key, "state")
            data = parts["data"] if "data" in parts else await unit.value(key, "data")
            cols = _key_columns(key)
            if state is None and (data or EMPTY_DATA) == EMPTY_DATA:
                emptied.append({f"k_{name}": value for name, value in cols.items()})
            else:
                rows.append({**cols, "state": state, "data": data or EMPTY_DATA, "updated_at": now})
        session = unit.session
        # StateUnit.commit commits right after this: with nothing else left to flush, the
        # last statement carries the COMMIT on SQLite (sqlite_async: the write lock is
        # then held for that one statement, not across the loop's turns to the commit).
        last = {COMMIT_WITH_WRITE: not (session.new or session.dirty or session.deleted)}
        if rows:
            await session.execute(_UPSERT, rows, execution_options=last if not emptied else {})
        if emptied:
            await session.execute(_DELETE, emptied, execution_options=last)


def sql_storage(session_factory: async_sessionmaker[AsyncSession]) -> UnitStorage:
    """The dispatcher's storage on the database: direct outside updates, unit inside."""
    return UnitStorage(SqlStorage(session_factory), SqlStateIO())
