"""The wizard with REDIS_URL: state survives a restart, replicas serialise one user's updates."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Update
from redis.asyncio import Redis
from sqlalchemy import func, select

from storage.models import FsmRecord
from tests.fake_telegram import FakeUser
from tests.redis.helpers import on_refusal
from tests.wizard.conftest import COORDINATOR_ID, Env
from tests.wizard.helpers import (
    ASK_NAME,
    ASK_TIME,
    CONFIRM,
    DOCTOR_101,
    NAME,
    NOW_ONLY,
    PHONE,
    SUMMARY,
    text,
    to_summary,
)

_update_ids = itertools.count(10_000_000)


async def _fsm_rows(env: Env) -> int:
    async with env.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(FsmRecord)) or 0)


async def test_wizard_state_lives_in_redis_and_survives_a_restart(env: Env, redis: Redis) -> None:
    assert env.dp is not None
    assert isinstance(env.dp.fsm.storage.backend, RedisStorage)  # type: ignore[attr-defined]
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    assert ASK_NAME in text(u)

    # The conversation is in Redis, none of it in the database.
    keys = sorted(await redis.keys("fsm:*"))
    assert any(f":{COORDINATOR_ID}:aiogd:stack:" in k for k in keys), keys
    assert any(f":{COORDINATOR_ID}:aiogd:context:" in k for k in keys), keys
    assert await _fsm_rows(env) == 0

    # A new dispatcher (its own Redis client: another process) on the same Redis and DB.
    old = env.dp
    await env.restart()
    assert env.dp is not old
    await u.send_text(NAME)
    assert ASK_TIME in text(u)
    await u.press(NOW_ONLY)
    assert SUMMARY in text(u) and "Иванова Мария Петровна" in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 1
    (consultation,) = await env.consultations()
    assert consultation.patient_phone == "+79099708593"
    assert await _fsm_rows(env) == 0


class RecordingIsolation(BaseEventIsolation):
    """Delegates to the real (Redis) isolation and records who waits, holds and releases."""

    def __init__(self, inner: BaseEventIsolation, name: str, log: list[str],
                 seen: defaultdict[str, asyncio.Event]) -> None:
        self.inner, self.name, self.log, self.seen = inner, name, log, seen

    def _record(self, what: str) -> None:
        entry = f"{self.name} {what}"
        self.log.append(entry)
        self.seen[entry].set()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        self._record("waits")
        async with self.inner.lock(key):
            self._record("locked")
            try:
                yield
            finally:
                # Before the inner release: nobody can take the lock ahead of this entry.
                self._record("releases")

    async def close(self) -> None:
        await self.inner.close()


def _press_update(env: Env, user: FakeUser, label: str) -> tuple[Update, Any]:
    """The update Telegram would send for a press on ``label`` (as FakeUser.press builds it)."""
    message, button = user.find_button(label)
    assert button.callback_data is not None
    query = env.tg.new_callback_query(user.id, message, button.callback_data)
    payload: dict[str, Any] = {
        "id": query.id,
        "from": query.from_user.to_dict(),
        "message": message.to_dict(),
        "chat_instance": f"ci{user.id}",
        "data": button.callback_data,
    }
    update = Update.model_validate(
        {"update_id": next(_update_ids), "callback_query": payload}, context={"bot": env.bot}
    )
    return update, query


async def test_two_replicas_serialise_two_confirm_presses(
    env: Env, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    u = env.user()
    await to_summary(u)
    await env.stop_polling()  # from here the two "replicas" get the updates directly

    log: list[str] = []
    seen: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
    replicas: list[Dispatcher] = []
    for name in ("A", "B"):
        dp = env.build_dispatcher()  # each with its own Redis client, as separate processes
        dp.fsm.events_isolation = RecordingIsolation(dp.fsm.events_isolation, name, log, seen)
        await dp.emit_startup(bot=env.bot)
        replicas.append(dp)
    replica_a, replica_b = replicas
    b_refused = on_refusal(replica_b.fsm.events_isolation.inner)  # type: ignore[attr-defined]

    # A's start request is held at the partner API until B was refused the lock.
    release = asyncio.Event()
    original = env.api.start_callback

    async def held_start(*args: Any, **kwargs: Any) -> Any:
        log.append("api")
        seen["api"].set()
        await release.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(env.api, "start_callback", held_start)
    (press_a, query_a), (press_b, query_b) = (
        _press_update(env, u, CONFIRM), _press_update(env, u, CONFIRM)
    )
    try:
        async with asyncio.timeout(15):
            task_a = asyncio.create_task(replica_a.feed_update(env.bot, press_a))
            await seen["api"].wait()
            task_b = asyncio.create_task(replica_b.feed_update(env.bot, press_b))
            # B tried the lock A holds (a key in the shared Redis) and was refused.
            await b_refused.wait()
            assert await redis.keys(f"fsm:*:{COORDINATOR_ID}:default:lock")
            release.set()
            await asyncio.gather(task_a, task_b)
    finally:
        release.set()
        for dp in replicas:
            await dp.emit_shutdown(bot=env.bot)

    assert log == [
        "A waits", "A locked", "api", "B waits", "A releases", "B locked", "B releases",
    ]
    assert len(env.start_requests()) == 1
    assert len(await env.consultations()) == 1
    assert query_a.answered and query_b.answered  # B's press: a short "stale" alert
