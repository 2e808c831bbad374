"""The card's Conclusion button: offered only to those who may read it, and answered before
the partner API is asked for the conclusion."""

from __future__ import annotations

from typing import Any

import pytest

from tests.consultations.conftest import COORDINATOR_ID, World
from tests.consultations.test_card_e2e import _open, show_card

BUTTON = "📄 Conclusion"


def _answers(world: World) -> int:
    return len(world.tg.calls("answerCallbackQuery"))


async def test_the_press_is_answered_before_the_conclusion_is_fetched(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner_id = _open(world, status="Processed")
    world.sb.set_report(partner_id, "Всё хорошо.")
    cid = await world.adopt(partner_id, coordinator_id=COORDINATOR_ID)
    user = world.coordinator
    await show_card(user, cid)
    answered_before_press = _answers(world)

    real_get = world.api.get_callback
    answered_at_fetch: list[int] = []

    async def spy(callback_id: str) -> Any:
        answered_at_fetch.append(_answers(world))
        return await real_get(callback_id)

    monkeypatch.setattr(world.api, "get_callback", spy)
    query = await user.press(BUTTON)
    assert answered_at_fetch == [answered_before_press + 1]
    assert query.answered and not query.show_alert
    assert "Всё хорошо." in user.last_bot_message().content


async def test_a_failed_fetch_is_reported_as_a_message(world: World) -> None:
    partner_id = _open(world, status="Processed")
    cid = await world.adopt(partner_id, coordinator_id=COORDINATOR_ID)
    user = world.coordinator
    await show_card(user, cid)
    world.sb.inject_fault("get", "503", count=20)
    query = await user.press(BUTTON)
    assert query.answered and not query.show_alert
    assert "Could not fetch the conclusion" in user.last_bot_message().content
    assert not world.tg.unanswered_queries()


async def test_the_button_is_offered_only_to_those_who_may_read(world: World) -> None:
    partner_id = _open(world, status="Processed")
    world.sb.set_report(partner_id, "Всё хорошо.")
    someone_elses = await world.adopt(partner_id, coordinator_id=COORDINATOR_ID + 500)
    await show_card(world.coordinator, someone_elses)
    seen = world.coordinator.last_bot_message().content
    assert "History:" in seen
    assert BUTTON not in world.coordinator.buttons()
    assert "conclusion is ready" not in seen  # no hint at a button they lack
    await show_card(world.admin, someone_elses)
    assert BUTTON in world.admin.buttons()
    assert "conclusion is ready" in world.admin.last_bot_message().content


async def test_the_conclusion_is_protected_from_forwarding(world: World) -> None:
    partner_id = _open(world, status="Processed")
    world.sb.set_report(partner_id, "Всё хорошо.")
    cid = await world.adopt(partner_id, coordinator_id=COORDINATOR_ID)
    user = world.coordinator
    await show_card(user, cid)
    calls_before = len(world.tg.calls("sendMessage"))
    await user.press(BUTTON)
    sent = world.tg.calls("sendMessage")[calls_before:]
    assert any("Всё хорошо." in str(c.params.get("text")) for c in sent)
    assert sent and all(c.params.get("protect_content") in (True, "true") for c in sent), [
        c.params for c in sent
    ]
