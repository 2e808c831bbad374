"""Forged presses on the list's own buttons, a row the user may not see, and Reschedule on
a consultation that finished meanwhile (409)."""

from __future__ import annotations

from aiogram_dialog.utils import CB_SEP

from tests.consultations.conftest import DOCTOR_ID, World
from tests.consultations.test_card_e2e import _open, show_card
from tests.fake_telegram import FakeUser


def _intent(user: FakeUser) -> str:
    """The open list's intent id, read from one of its own buttons."""
    message = user.last_bot_message()
    for row in message.reply_markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data") or ""
            if CB_SEP in data:
                return data.split(CB_SEP, 1)[0]
    raise AssertionError("no dialog button")


async def test_forged_filter_sort_and_row_get_the_stale_alert(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    listed = user.last_bot_message()
    before = listed.content
    intent = _intent(user)
    for forged in ("flt:bogus", "srt:zz", "row:abc", "row:", "flt:"):
        pressed = await user.press_data(f"{intent}{CB_SEP}{forged}", listed.message_id)
        assert pressed.answered and pressed.show_alert, forged
        assert pressed.text == "This button is out of date.", forged
    assert user.message(listed.message_id).content == before
    assert len(user.bot_messages()) == 1
    # The list is still open and works.
    await user.press("▶️")
    assert "Page 2 of" in user.last_bot_message().content
    assert not world.tg.unanswered_queries()


async def test_a_row_the_user_may_not_see_is_a_short_alert_and_the_list_stays(
    world: World,
) -> None:
    foreign = await world.adopt(_open(world, doctor_id=DOCTOR_ID + 2))
    doctor = world.doctor
    await doctor.send_command("list")
    listed = doctor.last_bot_message()
    before = listed.content
    pressed = await doctor.press_data(f"{_intent(doctor)}{CB_SEP}row:{foreign}")
    assert pressed.answered and pressed.show_alert
    assert pressed.text == "No such consultation, or it is not available to you."
    assert len(doctor.bot_messages()) == 1  # no chat message
    assert doctor.message(listed.message_id).content == before
    await doctor.press("All")  # the dialog stays open
    assert "• All" in doctor.buttons()
    assert not world.tg.unanswered_queries()


async def test_reschedule_after_a_409_on_a_processed_one_does_not_open_the_wizard(
    world: World,
) -> None:
    partner_id = _open(world, status="Delayed")
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    await user.press("🗓 Reschedule")
    # It took place meanwhile: terminate answers 409.
    await world.sb.set_status(
        partner_id, "PreProcessing", "Processing", "PostProcessing", "Processed", notify=False
    )
    await user.press("✅ Yes")
    [card] = user.bot_messages()  # the card, and no wizard message after it
    assert "already finished" in card.content and "Completed" in card.content
    assert all("Step" not in m.content for m in user.bot_messages())
    assert "🔁 Repeat" in user.buttons(card)
    assert [r.route for r in world.api_requests()].count("terminate") == 1
    assert not world.tg.unanswered_queries()
