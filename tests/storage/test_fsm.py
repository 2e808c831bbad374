from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_storage import SqlStateIO, SqlStorage
from bot.fsm_unit import StateUnit
from storage.db import create_engine, create_session_factory
from storage.enums import Role
from storage.repositories.users import UserRepository
from tests.update_costs import DbCosts


class Wizard(StatesGroup):
    phone = State()
    name = State()


BASE = StorageKey(bot_id=1, chat_id=-100, user_id=42)


async def test_round_trip_keys_differ_by_destiny_and_thread(migrated_url: str) -> None:
    keys = {
        "base": BASE,
        "destiny": StorageKey(bot_id=1, chat_id=-100, user_id=42, destiny="aiogd:stack"),
        "thread": StorageKey(bot_id=1, chat_id=-100, user_id=42, thread_id=7),
        "business": StorageKey(bot_id=1, chat_id=-100, user_id=42, business_connection_id="bc"),
        "bot": StorageKey(bot_id=2, chat_id=-100, user_id=42),
    }
    engine = create_engine(migrated_url)
    storage = SqlStorage(create_session_factory(engine))
    try:
        for key in keys.values():
            assert await storage.get_state(key) is None
            assert await storage.get_data(key) == {}
        await storage.set_state(keys["base"], Wizard.phone)
        await storage.set_state(keys["destiny"], "aiogd_stack_state")
        await storage.set_state(keys["thread"], Wizard.name)
        for name, key in keys.items():
            await storage.set_data(key, {"who": name, "n": [1, 2], "ru": "Иванов"})
        new = await storage.update_data(keys["thread"], {"n": 3, "extra": None})
        assert new == {"who": "thread", "n": 3, "ru": "Иванов", "extra": None}
        assert await storage.get_value(keys["thread"], "n") == 3
    finally:
        await storage.close()
        await engine.dispose()

    # A new engine (a restarted bot) reads everything back.
    engine = create_engine(migrated_url)
    storage = SqlStorage(create_session_factory(engine))
    try:
        assert await storage.get_state(keys["base"]) == "Wizard:phone"
        assert await storage.get_state(keys["destiny"]) == "aiogd_stack_state"
        assert await storage.get_state(keys["thread"]) == "Wizard:name"
        assert await storage.get_state(keys["business"]) is None
        assert await storage.get_state(keys["bot"]) is None
        for name, key in keys.items():
            data = await storage.get_data(key)
            assert data["who"] == name
        assert (await storage.get_data(keys["thread"]))["n"] == 3
        # Clearing (what FSMContext.clear does) removes the state and data.
        await storage.set_state(keys["base"], None)
        await storage.set_data(keys["base"], {})
        assert await storage.get_state(keys["base"]) is None
        assert await storage.get_data(keys["base"]) == {}
        assert await storage.get_state(keys["destiny"]) == "aiogd_stack_state"
        # update_data on an empty key creates it.
        fresh = StorageKey(bot_id=1, chat_id=5, user_id=5)
        assert await storage.update_data(fresh, {"a": 1}) == {"a": 1}
        assert await storage.get_data(fresh) == {"a": 1}
    finally:
        await engine.dispose()


async def test_unserialisable_data_fails_loudly(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    storage = SqlStorage(create_session_factory(engine))
    try:
        with pytest.raises(TypeError):
            await storage.set_data(BASE, {"obj": object()})
        with pytest.raises(TypeError):
            await storage.update_data(BASE, {"when": {1, 2}})
        assert await storage.get_data(BASE) == {}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("existing", [True, False], ids=["existing-key", "fresh-key"])
async def test_concurrent_update_data_loses_no_field(migrated_url: str, existing: bool) -> None:
    """Two update_data on one key, separate sessions: B starts right after A has read.

    Without a lock taken before the read, B reads what A read, and whichever writes last
    drops the other's field. With it, B waits until A has committed; A gives B a bounded
    moment to read (a correct lock keeps B waiting, so A then goes on).
    """
    engine = create_engine(migrated_url)
    b_read = asyncio.Event()
    started: list[asyncio.Task[dict[str, Any]]] = []

    class Interleaving(AsyncSession):
        async def scalar(self, statement: Any, *args: Any, **kw: Any) -> Any:
            result = await super().scalar(statement, *args, **kw)
            task = asyncio.current_task()
            name = task.get_name() if task is not None else ""
            if name == "B":
                b_read.set()
            elif name == "A" and not started:
                started.append(
                    asyncio.create_task(storage.update_data(BASE, {"b": 2}), name="B")
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(b_read.wait(), timeout=0.5)
            return result

    storage = SqlStorage(async_sessionmaker(engine, class_=Interleaving, expire_on_commit=False))
    try:
        if existing:
            await storage.set_data(BASE, {"start": 0})
        a = asyncio.create_task(storage.update_data(BASE, {"a": 1}), name="A")
        await asyncio.wait_for(a, timeout=30)
        assert started, "B never started"
        await asyncio.wait_for(started[0], timeout=30)
        expected = {"a": 1, "b": 2, **({"start": 0} if existing else {})}
        assert await storage.get_data(BASE) == expected
    finally:
        for task in started:
            task.cancel()
        await engine.dispose()


async def test_the_first_read_of_an_update_brings_its_users_row(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """One statement: the user's records in this chat and the user's row (both backends),
    which the session then answers from — also when there is no row."""
    member, stranger = 42, 43
    async with session_factory() as session:
        await UserRepository(session).upsert(member, Role.COORDINATOR, display_name="K")
        await session.commit()
    await SqlStorage(session_factory).set_state(BASE, Wizard.phone)
    await SqlStorage(session_factory).set_data(BASE, {"phone": "+7"})
    bind = session_factory.kw["bind"]
    costs = DbCosts(bind)
    try:
        for user_id, state in ((member, Wizard.phone.state), (stranger, None)):
            key = StorageKey(bot_id=1, chat_id=-100, user_id=user_id)
            async with session_factory() as session:
                before = costs.snapshot()
                unit = StateUnit(session, user_id=user_id)
                loaded = await SqlStateIO().prefetch(unit, key)
                user = await UserRepository(session).get(user_id)
                again = await UserRepository(session).get(user_id)
                spent = costs.snapshot() - before
            assert (spent.user_reads, spent.state_reads) == (1, 1), (user_id, spent)
            assert loaded.values.get((key, "state")) == state
            assert loaded.covers(key)
            if user_id == member:
                assert loaded.values[(key, "data")] == '{"phone":"+7"}'
                assert user is again and user is not None and user.role is Role.COORDINATOR
            else:
                assert user is None and again is None
        # A row made in the session after an absent read is found (an invite's join).
        async with session_factory() as session:
            unit = StateUnit(session, user_id=stranger)
            await SqlStateIO().prefetch(unit, StorageKey(bot_id=1, chat_id=-100, user_id=stranger))
            await UserRepository(session).upsert(stranger, Role.DOCTOR, display_name="D")
            joined = await UserRepository(session).get(stranger)
            assert joined is not None and joined.role is Role.DOCTOR
    finally:
        costs.close()
