"""The Redis FSM storage and lock as bot/app/fsm.py builds them (redis_fsm), on a real server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.app.fsm import redis_client, redis_fsm
from bot.settings import Settings, load_settings
from tests.redis.helpers import on_refusal

RETENTION_DAYS = 7


def _settings(redis_url: str) -> Settings:
    return load_settings(
        {"BOT_TOKEN": "1:test", "REDIS_URL": redis_url, "RETENTION_DAYS": str(RETENTION_DAYS)}
    )


def _key(destiny: str) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=2000, user_id=2000, destiny=destiny)


async def test_keys_differing_only_in_destiny_are_kept_apart(redis_url: str, redis: Redis) -> None:
    storage, _ = redis_fsm(redis_client(redis_url), _settings(redis_url))
    plain, stack = _key("default"), _key("aiogd:stack:")
    try:
        await storage.set_state(plain, "Form:phone")
        await storage.set_data(plain, {"flow": "plain"})
        await storage.set_data(stack, {"flow": "dialog", "intents": ["abc"]})

        assert await storage.get_state(plain) == "Form:phone"
        assert await storage.get_state(stack) is None
        assert await storage.get_data(plain) == {"flow": "plain"}
        assert await storage.get_data(stack) == {"flow": "dialog", "intents": ["abc"]}
        assert sorted(await redis.keys("fsm:*")) == [
            "fsm:1:2000:2000:aiogd:stack::data",
            "fsm:1:2000:2000:default:data",
            "fsm:1:2000:2000:default:state",
        ]
        # Clearing the plain FSM (e.g. /cancel of a prompt) leaves the dialog stack alone.
        await storage.set_state(plain, None)
        await storage.set_data(plain, {})
        assert await storage.get_data(stack) == {"flow": "dialog", "intents": ["abc"]}
        assert await redis.keys("fsm:*") == ["fsm:1:2000:2000:aiogd:stack::data"]
    finally:
        await storage.close()


async def test_conversations_expire_after_the_retention_period(
    redis_url: str, redis: Redis
) -> None:
    # Drafts hold patient names and phones; the retention job only purges the database.
    storage, _ = redis_fsm(redis_client(redis_url), _settings(redis_url))
    try:
        await storage.set_state(_key("default"), "Form:name")
        await storage.set_data(_key("aiogd:context:x"), {"name": "…"})
        period = timedelta(days=RETENTION_DAYS).total_seconds()
        for key in await redis.keys("fsm:*"):
            assert period - 60 < await redis.ttl(key) <= period, key
    finally:
        await storage.close()


async def test_lock_is_shared_by_clients_and_separate_per_destiny(redis_url: str) -> None:
    settings = _settings(redis_url)
    (storage_a, lock_a), (storage_b, lock_b) = (
        redis_fsm(redis_client(redis_url), settings) for _ in range(2)
    )
    order: list[str] = []
    b_refused = on_refusal(lock_b)

    async def b_takes_the_same_key() -> None:
        async with lock_b.lock(_key("default")):
            order.append("B locked")

    try:
        async with asyncio.timeout(10):
            async with lock_a.lock(_key("default")):
                order.append("A locked")
                # Another destiny is another lock: taken at once while A holds its own.
                async with lock_b.lock(_key("aiogd:stack:")):
                    order.append("B other destiny")
                waiting = asyncio.create_task(b_takes_the_same_key())
                await b_refused.wait()  # B really tried the key A holds
                order.append("A releases")
            await waiting
    finally:
        await storage_a.close()
        await storage_b.close()
    assert order == ["A locked", "B other destiny", "A releases", "B locked"]


async def test_an_update_waiting_in_the_same_process_is_not_refused_by_redis(
    redis_url: str,
) -> None:
    """The next tap of a user reaches the lock while the previous update still holds it:
    in one process it waits on the local lock and takes the Redis one at its first SET
    (polling would be a refused SET and a sleep per try)."""
    storage, lock = redis_fsm(redis_client(redis_url), _settings(redis_url))
    refused = on_refusal(lock)
    order: list[str] = []
    first_holds = asyncio.Event()

    async def update(name: str, hold: asyncio.Event | None) -> None:
        async with lock.lock(_key("default")):
            order.append(f"{name} locked")
            if hold is not None:
                first_holds.set()
                await hold.wait()
            order.append(f"{name} releases")

    release = asyncio.Event()
    try:
        async with asyncio.timeout(10):
            first = asyncio.create_task(update("first", release))
            await first_holds.wait()
            second = asyncio.create_task(update("second", None))
            await asyncio.sleep(0)  # one step of the second: up to the lock the first holds
            assert order == ["first locked"]
            release.set()
            await asyncio.gather(first, second)
    finally:
        await storage.close()
    assert order == ["first locked", "first releases", "second locked", "second releases"]
    assert not refused.is_set()
