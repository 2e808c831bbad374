"""REDIS_URL at start-up: checked once (exit 2 with one line), one client, /health, closed.

The first two tests need no Redis server (they point at a closed port); the last one does.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.http_server import HealthState, build_http_app
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        pytest.param(
            "redis://:{pw}@127.0.0.1:{port}/0",
            "configuration error: REDIS_URL: Redis at 127.0.0.1:{port}/0 does not answer "
            "(ConnectionError)",
            id="unreachable",
        ),
        pytest.param(
            "{pw}@127.0.0.1:{port}",
            "configuration error: REDIS_URL must look like redis://[:password@]host[:port][/db] "
            "(or rediss://, unix:///path)",
            id="malformed",
        ),
    ],
)
async def test_bad_redis_url_stops_the_start_with_one_line(
    tmp_path: Path, redis_url: str, expected: str
) -> None:
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": "123:fake",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",  # never reached: Redis is checked first
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "REDIS_URL": redis_url.format(pw=PASSWORD, port=port),
        }
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    output = (out + err).decode()
    assert proc.returncode == 2, output
    assert output.strip().splitlines()[-1] == expected.format(port=port)
    assert "Traceback" not in output
    assert PASSWORD not in output
    assert not (tmp_path / "bot.db").exists()  # nothing was touched before the check


async def test_health_is_503_when_redis_is_down(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url)
    engine = create_engine(url)
    session_factory: async_sessionmaker[AsyncSession] = create_session_factory(engine)
    dead = Redis.from_url(f"redis://127.0.0.1:{_closed_port()}/0")
    app = build_http_app(session_factory=session_factory, health=HealthState(),
                         redis_check=dead.ping)
    try:
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/health")
            body = await response.json()
    finally:
        await dead.aclose()
        await engine.dispose()
    assert response.status == 503
    assert (body["status"], body["database"], body["redis"]) == ("error", "ok", "error")
    assert body["redis_error"] == "ConnectionError"


async def _our_connections(observer: Redis) -> int:
    """Clients connected to the server, other than ``observer`` itself."""
    me = await observer.client_id()
    return sum(1 for c in await observer.client_list() if int(c["id"]) != me)


async def test_app_uses_one_checked_client_reports_it_and_closes_it(
    redis_url: str, redis: Redis, fake_tg: FakeTelegram, db_url: str
) -> None:
    assert await _our_connections(redis) == 0
    async with run_app(app_settings(fake_tg, db_url, redis_url=redis_url)) as rt:
        # One client: the FSM storage and the isolations built from it (start_redis).
        dp = rt.dp
        assert rt.redis is not None and dp is not None
        assert dp.fsm.storage.backend.redis is rt.redis  # type: ignore[attr-defined]
        # Under the in-process lock of bot/app/fsm.py's LocalFirstIsolation.
        assert dp.fsm.events_isolation.inner.redis is rt.redis  # type: ignore[attr-defined]

        admin = fake_tg.user(1, language_code="en")
        await admin.send_text("/help", wait=False)  # through the Redis lock and storage
        (reply,) = await fake_tg.wait_for_messages(1, 1, timeout=10)
        assert reply.text

        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{rt.http_port}/health") as response,
        ):
            body = json.loads(await response.text())
        assert response.status == 200
        assert (body["status"], body["redis"]) == ("ok", "ok")
        assert await _our_connections(redis) >= 1
    assert await _our_connections(redis) == 0  # closed on shutdown
