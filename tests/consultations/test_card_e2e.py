"""The card: open from the list, details, long conclusion, terminate (Yes / No / double
press / 409 / 503), Repeat, Reschedule, "I can't take it", Back, stale and forged buttons."""

from __future__ import annotations

from sqlalchemy import select

from bot.callback_data import (
    CardAction,
    CardCallback,
    ConsAction,
    ConsCallback,
    ListFilter,
    ListPosition,
)
from storage.enums import ConsultationState, EventSource
from storage.models import AuditEntry, OutboxMessage, StatusEvent
from tests.consultations.conftest import (
    COORDINATOR_ID,
    DOCTOR_ACCOUNT_ID,
    DOCTOR_ID,
    World,
)
from tests.fake_telegram import FakeUser


async def _terminate_audit(world: World) -> list[tuple[int | None, str | None]]:
    async with world.session_factory() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "consultation_terminated")
        )
        return [(e.actor_id, e.target) for e in entries]


def _open(world: World, *, status: str | None = None, doctor_id: int | None = None) -> str:
    for record in world.sb.callbacks.values():
        if status is not None and record.status != status:
            continue
        if doctor_id is not None and record.doctor_id != doctor_id:
            continue
        return record.id
    raise AssertionError("no such seeded consultation")


async def show_card(user: FakeUser, cid: int, pos: ListPosition | None = None) -> None:
    """Open the card in the list message (as a row press would)."""
    await user.send_command("list")
    pos = pos or ListPosition()
    await user.press_data(ConsCallback.at(ConsAction.REFRESH, cid, pos).pack())


async def test_row_opens_the_card_in_place_and_back_returns(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    await user.press("▶️")
    list_message = user.last_bot_message()
    first_row = next(b for b in user.buttons() if b.startswith("9. "))
    await user.press(first_row)
    card = user.last_bot_message()
    assert card.message_id == list_message.message_id
    assert "History:" in card.content
    assert "+7 ••• ••• " not in card.content  # the card shows the full phone
    assert "+7 9" in card.content
    assert "⬅️ Back to the list" in user.buttons()
    await user.press("⬅️ Back to the list")
    assert "Page 2 of" in user.last_bot_message().content
    assert user.last_bot_message().message_id == list_message.message_id
    assert not world.tg.unanswered_queries()


async def test_card_with_a_long_conclusion(world: World) -> None:
    partner_id = _open(world, status="Processed")
    world.sb.set_report(partner_id, "Заключение. " * 600)
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    text = user.last_bot_message().content
    assert "The conclusion is ready" in text
    assert "Заключение. Заключение." not in text  # never pushed as text
    assert len(text) < 4096
    assert "📄 Conclusion" in user.buttons()
    assert "🔁 Repeat" in user.buttons()
    assert "⛔ Terminate" not in user.buttons()


async def test_terminate_no_then_yes_then_double_press(world: World) -> None:
    partner_id = _open(world, status="Registered", doctor_id=DOCTOR_ID)
    cid = await world.adopt(partner_id)
    record = world.sb.callbacks[partner_id]
    user = world.coordinator
    await show_card(user, cid)
    await user.press("⛔ Terminate")
    question = user.last_bot_message().content
    assert f"Terminate the consultation of {record.patient_name} with" in question
    await user.press("✖️ No")
    assert record.status == "Registered"
    assert "⛔ Terminate" in user.buttons()
    world.sb.clear_requests()
    await user.press("⛔ Terminate")
    yes = user.find_button("✅ Yes")[1].callback_data
    assert yes is not None
    await user.press("✅ Yes")
    assert record.status == "Unsuccessful"
    assert [r.route for r in world.api_requests()][:1] == ["terminate"]
    card = user.last_bot_message().content
    assert "Consultation terminated." in card and "Did not take place" in card
    row = await world.local(cid)
    assert row.state is ConsultationState.FINAL and row.last_status == "Unsuccessful"
    async with world.session_factory() as session:
        events = list(await session.scalars(
            select(StatusEvent).where(StatusEvent.consultation_id == cid,
                                      StatusEvent.source == EventSource.TERMINATE)))
        assert len(events) == 1
    # Who terminated what, ids only.
    assert await _terminate_audit(world) == [(COORDINATOR_ID, f"consultation:{cid}")]
    # The doctor hears it through the outbox.
    (told,) = await world.tg.wait_for_messages(DOCTOR_ACCOUNT_ID, 1, timeout=5)
    assert "terminated" in told.content and record.patient_name in told.content
    # A second press on the old Yes: "already finished", nothing sent to the service.
    world.sb.clear_requests()
    pressed = await user.press_data(yes)
    assert pressed.show_alert and pressed.text == "The consultation has already finished."
    assert "terminate" not in [r.route for r in world.api_requests()]
    assert "already finished" in user.last_bot_message().content
    assert len(await _terminate_audit(world)) == 1  # the second press terminated nothing


async def test_terminate_409_says_already_finished(world: World) -> None:
    partner_id = _open(world, status="Processing")
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    await user.press("⛔ Terminate")
    world.sb.terminate(partner_id)  # finished meanwhile, elsewhere
    await user.press("✅ Yes")
    text = user.last_bot_message().content
    assert "already finished" in text and "Did not take place" in text
    assert not world.tg.unanswered_queries()
    assert await _terminate_audit(world) == []  # finished elsewhere, not by this press


async def test_terminate_503_leaves_the_card(world: World) -> None:
    partner_id = _open(world, status="Processing")
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    before = user.last_bot_message().content
    await user.press("⛔ Terminate")
    world.sb.inject_fault("terminate", "503", count=10)
    await user.press("✅ Yes")
    assert world.sb.callbacks[partner_id].status == "Processing"
    failure = [m for m in user.bot_messages() if "Could not terminate" in m.content]
    assert len(failure) == 1
    card = user.message(user.bot_messages()[0])
    assert card.content == before
    assert "⛔ Terminate" in user.buttons(card)
    assert (await world.local(cid)).state is ConsultationState.ACTIVE
    assert await _terminate_audit(world) == []


async def test_doctor_cannot_terminate_and_forged_terminate_is_refused(world: World) -> None:
    partner_id = _open(world, status="Registered", doctor_id=DOCTOR_ID)
    cid = await world.adopt(partner_id)
    doctor = world.doctor
    await show_card(doctor, cid)
    assert "⛔ Terminate" not in doctor.buttons()
    pressed = await doctor.press_data(ConsCallback.at(ConsAction.TERMINATE_YES, cid,
                                                      ListPosition()).pack())
    assert pressed.show_alert
    assert world.sb.callbacks[partner_id].status == "Registered"


async def test_repeat_opens_the_prefilled_wizard(world: World) -> None:
    partner_id = _open(world, status="Unsuccessful")
    cid = await world.adopt(partner_id, duration=30)
    user = world.coordinator
    await show_card(user, cid)
    card_id = user.last_bot_message().message_id
    await user.press("🔁 Repeat")
    wizard = user.last_bot_message()
    assert wizard.message_id != card_id  # the card stays, the wizard is a new message
    record = world.sb.callbacks[partner_id]
    assert f"Patient: {record.patient_name}" in wizard.content
    await user.press("⚡ Now → to confirmation")
    summary = user.last_bot_message().content
    doctor = world.sb.doctors[record.doctor_id]
    assert f"Doctor: {doctor['lastName']} {doctor['firstName']}" in summary
    assert f"Patient: {record.patient_name}" in summary
    assert record.phone[1][-2:] in summary.split("Phone:")[1].splitlines()[0]


async def test_reschedule_terminates_then_opens_the_wizard(world: World) -> None:
    partner_id = _open(world, status="Delayed")
    cid = await world.adopt(partner_id)
    user = world.coordinator
    await show_card(user, cid)
    await user.press("🗓 Reschedule")
    assert "Reschedule" in user.last_bot_message().content
    await user.press("✅ Yes")
    assert world.sb.callbacks[partner_id].status == "Unsuccessful"
    record = world.sb.callbacks[partner_id]
    assert f"Patient: {record.patient_name}" in user.last_bot_message().content
    assert "⚡ Now → to confirmation" in user.buttons()


async def test_cant_take_alerts_the_coordinator(world: World) -> None:
    partner_id = _open(world, status="Registered", doctor_id=DOCTOR_ID)
    cid = await world.adopt(partner_id)
    doctor = world.doctor
    await show_card(doctor, cid)
    pressed = await doctor.press("🙅 I can't take it")
    assert pressed.show_alert and pressed.text == "The coordinator has been told."
    (alert,) = await world.tg.wait_for_messages(COORDINATOR_ID, 1, timeout=5)
    assert "cannot take consultation" in alert.content
    async with world.session_factory() as session:
        rows = list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == COORDINATOR_ID)))
        assert len(rows) == 1


async def test_foreign_and_missing_consultations_get_an_alert(world: World) -> None:
    foreign = await world.adopt(_open(world, doctor_id=DOCTOR_ID + 2))
    await world.doctor.send_command("list")
    for cid in (foreign, 999999):
        pressed = await world.doctor.press_data(
            ConsCallback.at(ConsAction.REFRESH, cid, ListPosition()).pack()
        )
        assert pressed.show_alert
        assert pressed.text == "No such consultation, or it is not available to you."
    assert "History:" not in world.doctor.last_bot_message().content


async def test_stale_and_forged_buttons_get_a_short_alert(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    cid = await world.adopt(_open(world, status="Registered"))
    old_version = ConsCallback.at(ConsAction.REFRESH, cid, ListPosition()).pack().replace(
        "cons:1:", "cons:0:", 1
    )
    for data in (old_version, "cons:1:zz:1:act:c:0:0", "lst:1:nope:c:0:0", "cons:garbage",
                 "lst:9:act:c:0:0"):
        pressed = await user.press_data(data)
        assert pressed.answered and pressed.show_alert, data
        assert len(pressed.text or "") < 200
    # The wizard's card buttons work through the same checks.
    pressed = await user.press_data(
        CardCallback(action=CardAction.REFRESH, consultation_id=cid).pack()
    )
    assert not pressed.show_alert
    assert "History:" in user.last_bot_message().content
    assert not world.tg.unanswered_queries()


async def test_back_from_a_found_card_lists_the_search_again(world: World) -> None:
    await world.mirror_all()
    user = world.coordinator
    await user.send_command("find", "Докторов")
    first = next(b for b in user.buttons() if b.startswith("1. "))
    await user.press(first)
    assert "History:" in user.last_bot_message().content
    await user.press("⬅️ Back to the list")
    text = user.last_bot_message().content
    assert "Search: Докторов" in text and "search results" in text
    pos = ListPosition(f=ListFilter.FIND)
    assert pos.f is ListFilter.FIND
