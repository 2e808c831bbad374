"""bot/app/fsm.py's LocalFirstIsolation over a recording stand-in for the Redis lock (the
real one: tests/redis/test_storage_keys.py): updates of one process wait for each other
locally, and only the holder of the local lock ever asks for the shared one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import pytest
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

from bot.app.fsm import LocalFirstIsolation


class SharedLockLog(BaseEventIsolation):
    """Records when the shared lock is taken and given back; fails if asked for a key it
    is already holding (what made a Redis waiter poll)."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.held: set[StorageKey] = set()
        self.closed = False

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        assert key not in self.held, "asked for a shared lock this process holds"
        self.held.add(key)
        self.log.append(f"take {key.user_id}")
        try:
            yield None
        finally:
            self.held.discard(key)
            self.log.append(f"give {key.user_id}")

    async def close(self) -> None:
        self.closed = True


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


async def hold(isolation: LocalFirstIsolation, k: StorageKey, until: asyncio.Event) -> None:
    async with isolation.lock(k):
        await until.wait()


async def test_updates_of_one_key_take_turns_in_arrival_order() -> None:
    shared = SharedLockLog()
    isolation = LocalFirstIsolation(shared)
    order: list[str] = []
    go = asyncio.Event()

    async def update(name: str) -> None:
        async with isolation.lock(key(7)):
            order.append(name)
            await go.wait()

    tasks = [asyncio.create_task(update(name)) for name in ("a", "b", "c")]
    await asyncio.sleep(0)  # one step each: a holds, b and c wait on the local lock
    assert order == ["a"] and shared.log == ["take 7"]
    assert isolation._local[key(7)].users == 3
    go.set()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    assert order == ["a", "b", "c"]
    assert shared.log == ["take 7", "give 7"] * 3
    assert isolation._local == {}  # nothing kept per user once they are done


async def held(
    user_id: int,
) -> tuple[SharedLockLog, LocalFirstIsolation, asyncio.Event, asyncio.Task[None]]:
    """An isolation whose ``key(user_id)`` a task holds until the event is set."""
    shared = SharedLockLog()
    isolation = LocalFirstIsolation(shared)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(isolation, key(user_id), release))
    await asyncio.sleep(0)  # one step of the holder: it has the lock
    return shared, isolation, release, holder


async def test_other_keys_do_not_wait() -> None:
    shared, isolation, release, holder = await held(1)
    async with asyncio.timeout(5), isolation.lock(key(2)):
        assert shared.held == {key(1), key(2)}
    release.set()
    await holder
    assert isolation._local == {}


async def test_a_waiter_cancelled_or_a_failing_update_leaves_nothing_held() -> None:
    shared, isolation, release, holder = await held(3)
    waiter = asyncio.create_task(hold(isolation, key(3), asyncio.Event()))
    await asyncio.sleep(0)
    waiter.cancel()  # e.g. the process stopping
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    with pytest.raises(RuntimeError, match="handler failed"):
        async with isolation.lock(key(3)):
            raise RuntimeError("handler failed")
    assert isolation._local == {} and shared.held == set()
    assert shared.log == ["take 3", "give 3"] * 2  # the cancelled waiter never asked
    await isolation.close()
    assert shared.closed
