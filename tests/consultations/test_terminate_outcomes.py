"""Terminate: a refused answer ({"success": false}) is a failure, and the terminate event
is recorded before the look that follows (so the partner's web-hook is not news)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api_client import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.retry import RetryPolicy
from api_client.sandbox import SandboxServer
from bot.i18n import I18n
from bot.notifications.runtime import status_processor
from bot.notifications.worker import fetch_and_apply
from storage.enums import ConsultationState, EventSource
from storage.models import OutboxMessage, StatusEvent
from tests.consultations.conftest import COORDINATOR_ID, DOCTOR_ID, World
from tests.consultations.test_card_e2e import _open, show_card


class _Switchboard(httpx.AsyncBaseTransport):
    """The real sandbox over HTTP, except terminate-callback when told to refuse it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.refuse_terminate = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_terminate and request.url.path.endswith("/terminate-callback"):
            return httpx.Response(200, json={"success": False})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def switchboard() -> _Switchboard:
    return _Switchboard()


@pytest.fixture
async def api(
    sandbox: SandboxServer, switchboard: _Switchboard
) -> AsyncIterator[PartnerApiClient]:
    async with (
        httpx.AsyncClient(transport=switchboard, timeout=10) as http,
        PartnerApiClient(
            sandbox.url,
            StaticTokenProvider("test-token"),
            http=http,
            retry=RetryPolicy(sleep=_no_sleep),
        ) as client,
    ):
        yield client


async def test_terminate_answered_success_false_is_a_failure(
    world: World, switchboard: _Switchboard
) -> None:
    partner_id = _open(world, status="Processing")
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    before = user.last_bot_message().content
    await user.press("⛔ Terminate")
    switchboard.refuse_terminate = True
    await user.press("✅ Yes")
    failure = [m for m in user.bot_messages() if "Could not terminate" in m.content]
    assert len(failure) == 1
    card = user.message(user.bot_messages()[0])
    assert card.content == before
    assert "Consultation terminated." not in card.content
    assert "⛔ Terminate" in user.buttons(card)
    row = await world.local(cid)
    assert row.state is ConsultationState.ACTIVE and row.last_status == "Processing"
    async with world.session_factory() as session:
        events = await session.scalars(
            select(StatusEvent).where(
                StatusEvent.consultation_id == cid, StatusEvent.source == EventSource.TERMINATE
            )
        )
        assert list(events) == []
    assert not world.tg.unanswered_queries()


async def test_web_hook_during_the_look_after_terminate_tells_the_presser_nothing(
    world: World, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The partner's web-hook is processed while the bot fetches the card after the 2xx:
    the terminate is already recorded, so the worker finds no news and pushes no
    "did not take place" to the coordinator who pressed."""
    partner_id = _open(world, status="Registered", doctor_id=DOCTOR_ID)
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    await user.press("⛔ Terminate")

    real_get = world.api.get_callback
    raced: list[Any] = []

    async def get_with_a_hook_in_between(callback_id: str) -> Any:
        if world.sb.callbacks[partner_id].status == "Unsuccessful" and not raced:
            admin_ids = world.harness.settings.admin_ids
            processor = status_processor(i18n, admin_ids=admin_ids, cards=False)
            raced.append(
                await fetch_and_apply(
                    world.session_factory, world.api, processor, [cid], EventSource.NOTIFICATION
                )
            )
        return await real_get(callback_id)

    monkeypatch.setattr(world.api, "get_callback", get_with_a_hook_in_between)
    await user.press("✅ Yes")
    assert raced and raced[0].recorded == 0 and raced[0].queued == 0
    assert "Consultation terminated." in user.last_bot_message().content
    async with world.session_factory() as session:
        to_presser = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == COORDINATOR_ID,
                    OutboxMessage.edit_message_id.is_(None),
                )
            )
        )
        sources = list(
            await session.scalars(
                select(StatusEvent.source).where(
                    StatusEvent.consultation_id == cid, StatusEvent.status == "Unsuccessful"
                )
            )
        )
    assert to_presser == []
    assert sources == [EventSource.TERMINATE]
