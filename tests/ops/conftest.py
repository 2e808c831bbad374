"""Fixtures of the operator's kit tests: a migrated SQLite file, a session factory, the
sandbox partner API on a real port, and settings built from an explicit environment."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api_client.sandbox import SandboxConfig, SandboxServer
from bot.i18n import I18n
from bot.settings import Settings, load_settings
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade

BOT_TOKEN = "123456:TEST"
ADMIN_ID = 1
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def free_port() -> int:
    """A port nothing listens on (bound and released; good enough on loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n(strict=True)


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url)
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None)) as server:
        yield server


MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(db_url: str) -> MakeSettings:
    def make(**env: str) -> Settings:
        values = {
            "BOT_TOKEN": BOT_TOKEN,
            "DATABASE_URL": db_url,
            "ADMIN_IDS": str(ADMIN_ID),
            "DEFAULT_TIMEZONE": "Europe/Moscow",
        }
        values.update({k.upper(): v for k, v in env.items()})
        return load_settings(values)

    return make
