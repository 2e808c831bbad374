"""Fixtures of the operator's kit tests: a migrated SQLite file, a session factory, the
sandbox partner API on a real port, and settings built from an explicit environment."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.settings import Settings, load_settings
from tests.bot_fixtures import *  # noqa: F403  (db_url, engine, session_factory, i18n, …)

BOT_TOKEN = "123456:TEST"
ADMIN_ID = 1
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def free_port() -> int:
    """A port nothing listens on (bound and released; good enough on loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
