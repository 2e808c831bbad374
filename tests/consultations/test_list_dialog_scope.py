"""An open /list takes only its own buttons: a press on another message's button (a status
notice's "Conclusion", "Start again") reaches that button's router, not the list."""

from __future__ import annotations

from bot.callback_data import ConclusionCallback
from tests.consultations.conftest import COORDINATOR_ID, World
from tests.consultations.test_card_e2e import _open


async def test_conclusion_press_with_the_list_open_shows_the_conclusion(world: World) -> None:
    partner_id = _open(world, status="Processed")
    world.sb.set_report(partner_id, "Всё хорошо.")
    cid = await world.adopt(partner_id, coordinator_id=COORDINATOR_ID)
    user = world.coordinator
    await user.send_command("list")
    listed = user.last_bot_message().content
    assert "Page 1 of" in listed
    await user.press_data(ConclusionCallback(cid=cid).pack())
    texts = [m.content for m in user.bot_messages()]
    assert any(t.startswith("📄 Conclusion of") for t in texts), texts
    assert any("Всё хорошо." in t for t in texts)
    assert not world.tg.unanswered_queries()
