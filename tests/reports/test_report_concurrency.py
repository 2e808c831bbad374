"""A long report never blocks anyone: the handler hands the work to a background job, so
other users — and the one who asked — are answered while it runs; a second report of the
same user waits for the first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from api_client import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxServer
from tests.reports.conftest import World, read_csv


class GatedApi:
    """The real client, whose ``get_many`` waits for the test's word: a report's refresh
    held for as long as the test wants (no sleeps, no timing)."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def get_many(self, ids: Sequence[str]) -> Any:
        self.entered.set()
        await self.release.wait()
        return await self._api.get_many(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)


@pytest.fixture
async def api(sandbox: SandboxServer) -> AsyncIterator[GatedApi]:
    """The bot's client for this module: gated."""
    async with PartnerApiClient(sandbox.url, StaticTokenProvider("test-token")) as client:
        yield GatedApi(client)


async def test_a_report_in_progress_blocks_nobody(world: World) -> None:
    gated = world.harness.api
    assert isinstance(gated, GatedApi)
    coordinator, admin = world.coordinator, world.admin

    await coordinator.send_command("/report")
    await coordinator.press("Last month")  # returns once the press is handled
    await asyncio.wait_for(gated.entered.wait(), 10)  # the job is inside the refresh now
    assert "Counting 67 consultations…" in coordinator.bot_messages()[0].content

    # Others are answered meanwhile, and so is the one who asked.
    await admin.send_command("/help")
    assert "What I can do" in admin.last_bot_message().content
    await coordinator.send_command("/help")
    assert "What I can do" in coordinator.last_bot_message().content

    # A second report of the same user waits for the first to come.
    await coordinator.send_command("/report")
    await coordinator.press("This month")
    assert coordinator.alerts()[-1].text == (
        "Your report is still being prepared: it will come in a moment."
    )
    assert not [m for m in coordinator.bot_messages() if m.document is not None]

    gated.release.set()
    (document,) = await world.files(coordinator, 1)
    _, rows = read_csv(document, ",")
    assert len(rows) - 1 == 67
