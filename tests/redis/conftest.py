"""Tests against a real Redis server (REDIS_URL set: FSM storage and event isolation).

They run only when ``TEST_REDIS_URL`` points at a throwaway Redis database (``.ci/run``
starts one): the database is FLUSHED before every test. Start one locally with
``redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes`` and
``export TEST_REDIS_URL=redis://127.0.0.1:6390/0``.

Fixtures:
  redis_url   TEST_REDIS_URL, its database emptied (the test is skipped without it)
  redis       a redis.asyncio client on it, for looking at the keys the bot wrote
  db_url, fake_tg, …   from tests/bot_fixtures.py
  env         the wizard's end-to-end Env (tests/wizard/conftest.py) whose dispatchers are
              built with REDIS_URL set, i.e. by create_dispatcher's own Redis path
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.bot_fixtures import *  # noqa: F403  (db_url, fake_tg, session_factory, …)
from tests.wizard.conftest import Env, doctor_routes, no_second_callback_answer, today
from tests.wizard.conftest import env as sql_env

__all__ = ["doctor_routes", "no_second_callback_answer", "sql_env", "today"]

SKIP_REASON = (
    "TEST_REDIS_URL is not set: these tests need a throwaway Redis server "
    "(e.g. redis://127.0.0.1:6390/0; .ci/run starts one)"
)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    url = os.environ.get("TEST_REDIS_URL", "").strip()
    if not url:
        pytest.skip(SKIP_REASON)
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    yield url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def env(redis_url: str, sql_env: Env) -> Env:
    """The wizard Env restarted with REDIS_URL: from here on every dispatcher it builds keeps
    conversation state and locks in Redis (nothing has been said to the first one yet)."""
    sql_env.settings = sql_env.settings.model_copy(update={"redis_url": redis_url})
    await sql_env.restart()
    return sql_env
