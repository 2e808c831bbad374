"""Two replicas behind one URL, as issue 13 deploys them, all real but Telegram and the partner.

    PostgreSQL (a fresh database)  Redis (one db, flushed)
              \\         /
    replica "a"  replica "b"   ← `python -m bot run`, MIGRATE_ON_START=false after one
              \\     /            `python -m bot migrate`, webhook mode, own INSTANCE_NAME
         round-robin proxy      ← PUBLIC_URL: Telegram's webhook and the partner's hooks
            /        \\
    fake Bot API    sandbox partner API   ← in the test's process (TELEGRAM_API_URL,
    (webhook delivery)                       TMAPI_BASE_URL); the sandbox's hooks go
                                             through the proxy too

``Cluster.open()`` starts it all and waits until every replica has started (``bot_started``,
then its getWebhookInfo) and the webhook is set; ``close()`` stops the replicas (SIGTERM) and
drops the database. ``names`` chooses the replicas (one for a single-process baseline),
``log_level`` their LOG_LEVEL (WARNING: quiet replicas, see replica.py), ``tg`` the fake Bot
API (``FakeTelegram(check_spec=False)`` spares a benchmark the spec checks).
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from api_client.sandbox import SandboxConfig, SandboxServer
from storage.db import create_engine, create_session_factory
from tests.fake_telegram import FakeTelegram
from tests.postgres_admin import admin_sql
from tests.replicas.proxy import RoundRobinProxy
from tests.replicas.replica import Replica, base_env, free_port, run_cli

WEBHOOK_SECRET = "replicas-webhook-Secret_0123456789abcdef"
RECONCILE_INTERVAL = 5  # seconds (the settings' minimum): the reconcile test counts ticks
ADMIN_ID = 1
NAMES = ("a", "b")
READY_TIMEOUT = 60.0  # seconds from the replicas' start to their webhook check


@dataclass
class Cluster:
    postgres_url: str  # TEST_POSTGRES_URL: a server where databases may be created
    redis_url: str  # TEST_REDIS_URL: a throwaway database (flushed here)
    workdir: Path
    names: tuple[str, ...] = NAMES
    log_level: str = "INFO"
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    db_url: str = ""
    tg: FakeTelegram = field(default_factory=FakeTelegram)
    sandbox_server: SandboxServer = field(
        default_factory=lambda: SandboxServer(SandboxConfig(pace=None))
    )
    proxy: RoundRobinProxy = field(default_factory=RoundRobinProxy)
    replicas: dict[str, Replica] = field(default_factory=dict)
    engine: AsyncEngine | None = None
    session_factory: async_sessionmaker[AsyncSession] | None = None
    http: aiohttp.ClientSession | None = None
    ports: dict[str, str] = field(default_factory=dict)  # quiet replicas: fixed HTTP_PORT

    @property
    def sandbox(self):  # type: ignore[no-untyped-def]  # api_client.sandbox.Sandbox
        return self.sandbox_server.sandbox

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        assert self.session_factory is not None
        return self.session_factory

    def replica_env(self, name: str) -> dict[str, str]:
        port = "0"  # the replica logs the one it bound
        if self.log_level.upper() not in ("DEBUG", "INFO"):
            port = self.ports.setdefault(name, str(free_port()))
        env = base_env()
        env.update(
            {
                "BOT_TOKEN": self.tg.token,
                "TELEGRAM_API_URL": self.tg.url,
                "TMAPI_BASE_URL": self.sandbox_server.url,
                "TMAPI_ACCESS_TOKEN": "replicas-test-token",
                "DATABASE_URL": self.db_url,
                "REDIS_URL": self.redis_url,
                "MIGRATE_ON_START": "false",
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PUBLIC_URL": self.proxy.url,
                "INSTANCE_NAME": name,
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": port,
                "ADMIN_IDS": str(ADMIN_ID),
                "RECONCILE_INTERVAL_SECONDS": str(RECONCILE_INTERVAL),
                "LOG_LEVEL": self.log_level,
            }
        )
        return env

    async def open(self) -> None:
        name = f"replicas_{uuid.uuid4().hex[:12]}"
        await admin_sql(self.postgres_url, f'CREATE DATABASE "{name}"')
        self.stack.push_async_callback(
            admin_sql, self.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
        self.db_url = (
            make_url(self.postgres_url).set(database=name).render_as_string(hide_password=False)
        )
        redis = Redis.from_url(self.redis_url)
        await redis.flushdb()
        await redis.aclose()
        await self.stack.enter_async_context(self.tg)
        await self.stack.enter_async_context(self.sandbox_server)
        await self.stack.enter_async_context(self.proxy)
        self.http = await self.stack.enter_async_context(aiohttp.ClientSession())

        # One migration per deploy, then replicas that refuse to migrate.
        code, out = await run_cli(self.replica_env("migrate"), "migrate", cwd=self.workdir)
        assert code == 0, out
        self.engine = create_engine(self.db_url)
        self.stack.push_async_callback(self.engine.dispose)
        self.session_factory = create_session_factory(self.engine)

        for replica_name in self.names:
            self.replicas[replica_name] = Replica(
                replica_name, self.replica_env(replica_name), self.workdir / replica_name
            )
        self.stack.push_async_callback(self._stop_all)
        await asyncio.gather(*(self.start(n) for n in self.names))
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        """Each replica asks getWebhookInfo once started (a quiet one logs nothing then)."""

        def ready() -> bool:
            checked = len(self.tg.calls("getWebhookInfo")) >= len(self.names)
            return checked and self.tg.state.webhook is not None

        try:
            await self.tg.wait_for(ready, timeout=READY_TIMEOUT)
        except TimeoutError:
            for replica in self.replicas.values():
                if not replica.running:
                    raise AssertionError(replica.describe("ended during its start-up")) from None
            raise

    async def start(self, name: str) -> None:
        replica = self.replicas[name]
        await replica.start()
        self.proxy.set_upstream(name, replica.url)

    async def ensure_running(self) -> None:
        """Restart a replica a test killed (same INSTANCE_NAME, as its supervisor would)."""
        await asyncio.gather(*(self.start(n) for n, r in self.replicas.items() if not r.running))

    async def _stop_all(self) -> None:
        crashed = [
            r
            for r in self.replicas.values()
            if not r.running and r.killed_at is None and not r.stopped
        ]
        running = [r for r in self.replicas.values() if r.running]
        codes = await asyncio.gather(*(r.stop() for r in running))
        for replica in crashed:
            raise AssertionError(replica.describe("ended by itself"))
        for replica, code in zip(running, codes, strict=True):
            assert code == 0, replica.describe(f"exit code {code} after SIGTERM")

    async def close(self) -> None:
        await self.stack.aclose()
