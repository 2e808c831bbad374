"""Where conversation state lives: Redis when REDIS_URL is set, else the database.

``redis_client``/``redis_fsm`` build the Redis client and the FSM storage + event isolation
over it; ``build_fsm`` picks the backend for a dispatcher built alone (tests);
``dialog_isolation`` gives aiogram-dialog its own lock object. Either storage reads and
writes once per update (bot/fsm_unit.py). The start-up ping of the client is a preflight
check (bot/app/preflight.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_unit import DeferredIsolation, UnitStorage
from bot.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

REDIS_TIMEOUT = 5.0  # seconds: connect, each command, and the start-up ping
# redis-py's lock retries every 0.1 s by default: an update of a user whose previous one is
# still storing its state waited that long (a double tap, a quick answer: p50 of one user
# in tests.bench.updates 129 ms -> 22 ms). Only one user's overlapping updates poll; the
# timeout (a holder that died) is aiogram's 60 s.
LOCK_KWARGS = {"timeout": 60, "sleep": 0.002}


@dataclass
class _LocalLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders and waiters: the entry goes when the last one leaves


class LocalFirstIsolation(BaseEventIsolation):
    """``inner``'s lock (Redis: shared by the replicas), taken under an in-process lock of
    the same key.

    A user's updates overlap mostly in one process: the next tap arrives as soon as the
    answer is on screen, while the update that sent it is still storing its state. Waiting
    on the Redis lock, it polled every ``LOCK_KWARGS["sleep"]`` (a refused SET per try, and
    ≈ 2.4 ms lost per update in tests.bench.updates' one-user run on Redis); waiting here,
    it is woken the moment the holder has released both, in arrival order, and its SET
    succeeds at once. An update on another replica still waits on the Redis lock alone.
    """

    def __init__(self, inner: BaseEventIsolation) -> None:
        self.inner = inner
        self._local: dict[StorageKey, _LocalLock] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        local = self._local.get(key)
        if local is None:
            local = self._local[key] = _LocalLock()
        local.users += 1
        try:
            # Exited in reverse: the shared lock is released before the local one.
            async with local.lock, self.inner.lock(key):
                yield None
        finally:
            local.users -= 1
            if not local.users:
                del self._local[key]

    async def close(self) -> None:
        await self.inner.close()


def redis_client(url: str) -> Redis:
    """A client for REDIS_URL (no I/O yet); timeouts so a silent server fails updates, not hangs."""
    # Imported here: redis is only loaded by deployments that set REDIS_URL.
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)


def redis_fsm(redis: Redis, settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """FSM storage and event isolation over one Redis client.

    Destiny in the key keeps aiogram-dialog's stacks apart from the plain FSM state; the bot
    id keeps two bots (staging and production) on one Redis database apart. The TTL
    is the retention period: wizard drafts hold patient data, and the retention job only
    purges the database's conversation rows (bot/jobs/retention.py).
    """
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisStorage

    from bot.fsm_redis import redis_storage

    ttl = timedelta(days=settings.retention_days)
    storage = RedisStorage(
        redis,
        key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
        state_ttl=ttl,
        data_ttl=ttl,
    )
    isolation = LocalFirstIsolation(storage.create_isolation(lock_kwargs=LOCK_KWARGS))
    return redis_storage(storage), isolation


def build_fsm(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when REDIS_URL is set (replicas share state and locks), else the database.

    ``run_bot`` passes its own checked client (the start_redis step); this path is for
    dispatchers built alone (tests), whose shutdown closes the client through
    ``storage.close()``.
    """
    if settings.redis_url:
        return redis_fsm(redis_client(settings.redis_url), settings)
    from bot.fsm_storage import sql_storage

    return sql_storage(session_factory), SimpleEventIsolation()


def dialog_isolation(dp: Dispatcher, settings: Settings) -> BaseEventIsolation:
    """A separate isolation object for aiogram-dialog: dialog stacks lock on their own keys,
    each released once the update's state is stored (``DeferredIsolation``)."""
    storage = dp.fsm.storage
    backend = storage.backend if isinstance(storage, UnitStorage) else storage
    isolation: BaseEventIsolation = SimpleEventIsolation()
    if settings.redis_url:
        create = getattr(backend, "create_isolation", None)
        if callable(create):
            isolation = LocalFirstIsolation(create(lock_kwargs=LOCK_KWARGS))
    return DeferredIsolation(isolation)
