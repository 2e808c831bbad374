"""Observing the Redis lock of aiogram's RedisEventIsolation without timing guesses."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation
from redis.asyncio.lock import Lock


def on_refusal(isolation: BaseEventIsolation) -> asyncio.Event:
    """An event set the first time ``isolation`` tries a lock that someone else holds.

    RedisEventIsolation asks its client for ``redis.lock(..., lock_class=Lock)``; the client
    of this one isolation is made to hand out a Lock that reports a refused attempt. Waiting
    on the event proves the other holder was really in the way (not merely still holding
    when the waiter happened to arrive later).
    """
    refused = asyncio.Event()

    class ObservedLock(Lock):
        async def do_acquire(self, token: str | bytes) -> bool:
            acquired = await super().do_acquire(token)
            if not acquired:
                refused.set()
            return acquired

    # The bot's isolations wrap aiogram's (bot/app/fsm.py: LocalFirstIsolation).
    redis_isolation: Any = getattr(isolation, "inner", isolation)
    client: Any = redis_isolation.redis
    make_lock = client.lock

    def lock(*args: Any, **kwargs: Any) -> Any:
        return make_lock(*args, **{**kwargs, "lock_class": ObservedLock})

    client.lock = lock
    return refused
