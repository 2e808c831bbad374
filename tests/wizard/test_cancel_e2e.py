"""/cancel: closes the wizard (or any dialog / pending prompt) with a short word and nothing
lost elsewhere; outside, there is nothing to cancel."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from tests.wizard.conftest import COORDINATOR_ID, Env
from tests.wizard.helpers import (
    ASK_DOCTOR,
    ASK_PHONE,
    CONFIRM,
    DOCTOR_101,
    PHONE,
    text,
    to_summary,
    to_time_step,
)

CANCELLED_WIZARD = "Отменено. Звонок не заказан."


async def _fsm_data(env: Env) -> dict[str, object]:
    assert env.dp is not None
    key = StorageKey(bot_id=env.bot.id, chat_id=COORDINATOR_ID, user_id=COORDINATOR_ID)
    return dict(await env.dp.storage.get_data(key))


async def test_cancel_outside_says_nothing_to_cancel(env: Env) -> None:
    u = env.user()
    await u.send_command("cancel")
    assert text(u) == "Отменять нечего."


async def test_cancel_inside_the_wizard_closes_it_and_keeps_the_rest(env: Env) -> None:
    u = env.user()
    await u.send_command("find", "Петров")  # another flow's FSM data: the last /find text
    before = await _fsm_data(env)
    assert before
    await u.send_command("cancel")  # closes the /find list window
    assert text(u) == "Отменено."
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    assert ASK_PHONE in text(u)
    wizard = u.last_bot_message()

    await u.send_command("cancel")
    assert text(u) == CANCELLED_WIZARD
    assert u.buttons(wizard) == []  # the wizard's buttons are gone
    # The phone typed now is no answer to a closed step: no consultation, no call.
    await u.send_text(PHONE)
    assert ASK_PHONE not in text(u)
    assert await env.consultations() == [] and env.start_requests() == []
    assert await _fsm_data(env) == before  # nothing lost elsewhere
    # Nothing left to cancel, and the wizard starts afresh.
    await u.send_command("cancel")
    assert text(u) == "Отменять нечего."
    await u.send_command("start_callback")
    assert ASK_DOCTOR in text(u)


async def test_cancel_late_in_the_wizard_and_in_the_list(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.send_command("cancel")
    assert text(u) == CANCELLED_WIZARD
    assert await env.consultations() == []

    await u.send_command("list")
    listing = u.last_bot_message()
    assert u.buttons(listing)
    await u.send_command("cancel")
    assert text(u) == "Отменено."
    assert u.buttons(listing) == []


async def test_cancel_of_an_access_prompt_keeps_its_own_answer(env: Env) -> None:
    u = env.user()
    await u.send_command("timezone")
    await u.send_command("cancel")
    assert text(u) == "Отменено."
    await u.send_command("cancel")
    assert text(u) == "Отменять нечего."


async def test_commands_reach_their_routers_over_an_open_dialog(env: Env) -> None:
    u = env.user()
    await u.send_command("list")
    assert u.buttons(u.last_bot_message())
    await u.send_command("start_callback")  # typed over the open list window
    assert ASK_DOCTOR in text(u)
    await u.press(DOCTOR_101)
    assert ASK_PHONE in text(u)
    await u.send_command("list")  # typed at the phone step: not a phone, the list opens
    assert ASK_PHONE not in text(u)
    assert u.buttons(u.last_bot_message())
    assert env.start_requests() == []


async def test_a_card_button_pressed_over_an_open_wizard_reaches_the_card(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    await u.press(CONFIRM)
    card = u.last_bot_message()
    assert "🔄" in " ".join(u.buttons(card))
    await u.send_command("start_callback")
    wizard = u.last_bot_message()
    assert ASK_DOCTOR in wizard.content
    shown = len(u.bot_messages())

    await u.press(next(b for b in u.buttons(card) if "🔄" in b), message=card)
    assert len(u.bot_messages()) == shown  # the wizard was not redrawn below
    assert ASK_DOCTOR in u.last_bot_message().content and u.last_bot_message() is wizard
    assert len(env.start_requests()) == 1
