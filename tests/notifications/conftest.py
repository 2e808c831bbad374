"""Fixtures of the notification tests: a migrated SQLite database, the sandbox partner API
on a real port, and the receiver + worker (the end-to-end tests add the bot runtime)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api_client.auth import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.sandbox.config import SandboxConfig
from api_client.sandbox.server import SandboxServer
from bot.i18n import I18n
from storage.db import create_engine, create_session_factory
from tests.bot_fixtures import *  # noqa: F403  (db_url, engine, session_factory, i18n, …)
from tests.notifications.harness import Harness


@pytest.fixture
async def sandbox_server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None)) as server:
        yield server


@pytest.fixture
async def api(sandbox_server: SandboxServer) -> AsyncIterator[PartnerApiClient]:
    async with PartnerApiClient(sandbox_server.url, StaticTokenProvider("sandbox")) as client:
        yield client


@pytest.fixture
async def harness(
    db_url: str, sandbox_server: SandboxServer, api: PartnerApiClient, i18n: I18n
) -> AsyncIterator[Harness]:
    engine = create_engine(db_url)
    harness = Harness(
        session_factory=create_session_factory(engine),
        sandbox_server=sandbox_server,
        api=api,
        i18n=i18n,
    )
    try:
        yield harness
    finally:
        await harness.close()
        await engine.dispose()
