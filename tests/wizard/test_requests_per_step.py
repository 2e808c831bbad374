"""What each wizard step asks of Telegram (every request costs CPU on the update's path):
one answer per step, the last step's buttons taken away when a new message goes below it,
every button press answered, and Cancel turning the step's message into the word itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.fake_telegram import FakeUser
from tests.wizard.conftest import Env
from tests.wizard.helpers import (
    ASK_ATTACHMENT,
    ASK_DOCTOR,
    ASK_NAME,
    ASK_PHONE,
    ASK_TIME,
    BACK,
    CANCEL,
    DOCTOR_101,
    NAME,
    NOW_ONLY,
    PHONE,
    SUMMARY,
    text,
)

CANCELLED = "Отменено. Звонок не заказан."

Step = tuple[str, Callable[[FakeUser], Awaitable[object]], str, list[str]]

ANSWER, EDIT, SEND = "answerCallbackQuery", "editMessageText", "sendMessage"
BUTTONS_AWAY = "editMessageReplyMarkup"

STEPS: list[Step] = [
    ("/start_callback", lambda u: u.send_command("start_callback"), ASK_DOCTOR, [SEND]),
    # The doctor as the list of moments ago says: no lookup, so answered after the edit.
    ("doctor (button)", lambda u: u.press(DOCTOR_101), ASK_PHONE, [EDIT, ANSWER]),
    # A typed answer: the question goes below it, the last one's buttons away.
    ("phone (text)", lambda u: u.send_text(PHONE), ASK_NAME, [BUTTONS_AWAY, SEND]),
    ("name (text)", lambda u: u.send_text(NAME), ASK_TIME, [BUTTONS_AWAY, SEND]),
    ("now (button)", lambda u: u.press(NOW_ONLY), SUMMARY, [EDIT, ANSWER]),
    ("back (button)", lambda u: u.press(BACK), ASK_ATTACHMENT, [EDIT, ANSWER]),
    # One edit says it and takes the buttons away (was: buttons away + a new message).
    ("cancel (button)", lambda u: u.press(CANCEL), CANCELLED, [EDIT, ANSWER]),
]


def _requests(env: Env, since: int) -> list[str]:
    # getMe: aiogram asks for the bot's own identity once, on the first update.
    return [c.method for c in env.tg.calls()[since:] if c.method not in ("getUpdates", "getMe")]


async def test_requests_per_wizard_step(env: Env) -> None:
    u = env.user()
    seen: list[tuple[str, list[str]]] = []
    for name, act, answer, _ in STEPS:
        before = len(env.tg.calls())
        await act(u)
        assert answer in text(u), (name, text(u))
        seen.append((name, _requests(env, before)))
    assert seen == [(name, expected) for name, _, _, expected in STEPS]
    # Every press was answered; one message of the bot carries buttons at a time.
    assert all(q.answered for q in u.alerts()) and len(u.alerts()) == 4
    assert [m for m in u.bot_messages() if m.buttons] == []


async def test_cancel_turns_the_step_into_the_word(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    wizard = u.last_bot_message()
    shown = len(u.bot_messages())
    await u.press(CANCEL)
    assert len(u.bot_messages()) == shown  # no new message
    cancelled = u.message(wizard)
    assert cancelled.content.startswith(CANCELLED) and cancelled.buttons == []
    assert [m for m in u.bot_messages() if m.buttons] == []
    # Closed: the next text is no answer to a step, and the wizard starts afresh.
    await u.send_text(NAME)
    assert ASK_TIME not in text(u)
    await u.send_command("start_callback")
    assert ASK_DOCTOR in text(u)


async def test_cancel_on_an_older_wizard_message_says_it_below(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    first = u.last_bot_message()  # the phone step; its buttons go once the phone is typed
    cancel_data = next(b.callback_data for b in first.keyboard[-1] if b.text == CANCEL)
    assert cancel_data is not None
    await u.send_text(PHONE)
    current = u.last_bot_message()
    assert ASK_NAME in current.content and current.buttons

    await u.press_data(cancel_data, first.message_id)  # a forged press on the old message
    assert text(u).startswith(CANCELLED)
    assert u.last_bot_message().message_id > current.message_id  # said below
    assert u.buttons(current) == []  # the wizard's live buttons are gone too
    assert ASK_PHONE in u.message(first).content  # the old message is left as it was


async def test_cancel_of_a_message_telegram_no_longer_has_says_it_anew(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    wizard = u.last_bot_message()
    cancel_data = next(b.callback_data for b in wizard.keyboard[-1] if b.text == CANCEL)
    assert cancel_data is not None
    env.tg.chat(u.chat_id).messages[wizard.message_id].deleted = True  # edit: "not found"

    await u.press_data(cancel_data, wizard.message_id)
    assert text(u).startswith(CANCELLED)
    assert u.last_bot_message().message_id > wizard.message_id
    await u.send_command("start_callback")
    assert ASK_DOCTOR in text(u)
