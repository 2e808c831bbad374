"""The fake driven by the real Dispatcher over HTTP: text, commands, buttons, edits, views."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot

from tests.fake_telegram import FakeTelegram, make_bot, run_polling

from .echo_bot import Seen, create_dispatcher


async def test_text_is_echoed(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_text("Привет <мир> & всё")
    reply = anna.last_bot_message()
    assert reply.text == "Привет <мир> & всё"
    assert reply.html == "Привет &lt;мир&gt; &amp; всё"
    assert [m.from_bot for m in anna.messages()] == [False, True]


async def test_start_shows_buttons_and_press_edits(polling: FakeTelegram) -> None:
    anna = polling.user(1001, first_name="Анна <A>")
    await anna.send_command("/start", "ref42")
    card = anna.last_bot_message()
    assert card.text == "Привет, Анна <A> (ref42)! Согласны?"
    assert [e.type for e in card.entities] == ["bold"]
    assert anna.buttons() == ["Да", "Нет"]

    query = await anna.press("Да")

    assert query.answered and query.text == "Выбрано: yes" and query.show_alert
    assert anna.alerts() == [query]
    edited = anna.last_bot_message()
    assert edited.message_id == card.message_id
    assert edited.text == "Ваш ответ: yes"
    assert edited.buttons == []  # editMessageText without reply_markup drops the keyboard
    assert [r.text for r in edited.history] == ["Привет, Анна <A> (ref42)! Согласны?"]
    assert polling.unanswered_queries() == []


async def test_press_missing_button_lists_visible_ones(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_command("/start")
    with pytest.raises(AssertionError, match=r"no button 'Может быть'.*\['Да', 'Нет'\]"):
        await anna.press("Может быть")


async def test_forged_callback_data_is_answered(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_command("/start")
    query = await anna.press_data("forged:payload")
    assert query.answered and query.text == "Кнопка устарела"
    assert anna.buttons() == ["Да", "Нет"]


async def test_contact(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_contact("+79099708593", "Пётр", user_id=77)
    assert anna.last_bot_message().text == "Контакт: +79099708593"
    assert anna.messages()[0].contact == {
        "phone_number": "+79099708593",
        "first_name": "Пётр",
        "user_id": 77,
    }


async def test_album_arrives_as_one_batch(polling: FakeTelegram, seen: Seen) -> None:
    anna = polling.user(1001)
    sent = await anna.send_album([b"one", b"two", b"three"])
    assert len(seen.media_groups) == 3
    assert len(set(seen.media_groups)) == 1 and seen.media_groups[0] == sent[0].media_group_id
    ids = [batch for batch in polling.delivered_batches if len(batch) == 3]
    assert len(ids) == 1


async def test_wait_for_an_effect_after_the_handler(polling: FakeTelegram, seen: Seen) -> None:
    anna = polling.user(1001)
    await anna.send_command("/later")
    assert [m.text for m in anna.bot_messages()] == ["Сейчас"]
    seen.release_later.set()
    messages = await polling.wait_for_messages(anna.chat_id, 2)
    assert [m.text for m in messages] == ["Сейчас", "Позже"]


async def test_wait_for_timeout_reports_the_state(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_text("ping")
    with pytest.raises(TimeoutError, match=r"(?s)condition not met.*chat 1001.*'ping'"):
        await polling.wait_for(lambda: False, timeout=0.05)


async def test_unconfirmed_updates_survive_a_restart(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user(1001)
    async with run_polling(create_dispatcher(), bot):
        await anna.send_text("first")
    await anna.send_text("while down", wait=False)
    assert [m.text for m in anna.bot_messages()] == ["first"]
    async with run_polling(create_dispatcher(), make_bot(tg)):
        await tg.wait_for_messages(anna.chat_id, 2)
    assert [m.text for m in anna.bot_messages()] == ["first", "while down"]


async def test_update_types_not_allowed_do_not_hang(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user(1001)
    async with run_polling(create_dispatcher(), bot, allowed_updates=["message"]):
        await anna.send_command("/start")
        query = await anna.press("Да")  # filtered like Telegram does; still returns
    assert not query.answered
    assert anna.last_bot_message().buttons  # nothing was edited


async def test_group_members_talk_and_the_bot_answers_in_the_group(polling: FakeTelegram) -> None:
    anna, boris = polling.user(1001), polling.user(1002, first_name="Борис")
    team = polling.group(-700, "Команда")
    await team.send_text(anna, "привет")
    await team.send_command(boris, "/start", mention=True)
    assert [m.content for m in team.messages()][:3] == [
        "привет",
        "привет",
        "/start@test_bot",
    ]
    assert team.last_bot_message().text == "Привет, Борис! Согласны?"
    await team.press(anna, "Нет")
    assert team.last_bot_message().text == "Ваш ответ: no"
    assert anna.messages() == []  # nothing leaked into the private chat


async def test_wait_handled_explains_a_missing_dispatcher(tg: FakeTelegram) -> None:
    anna = tg.user(1001)
    message = await anna.send_text("nobody polls", wait=False)
    assert message.text == "nobody polls"
    with pytest.raises(TimeoutError, match=r"(?s)not handled.*run_polling.*'nobody polls'"):
        await tg.wait_handled(1, timeout=0.05)


async def test_wait_for_a_chat_wakes_on_that_chat_only(polling: FakeTelegram) -> None:
    anna, boris = polling.user(1001), polling.user(1002)
    checks = {"anna": 0}

    def anna_answered() -> bool | None:
        checks["anna"] += 1
        return any(m.text == "для Анны" for m in anna.bot_messages()) or None

    waiting = asyncio.ensure_future(polling.wait_for(anna_answered, chat_id=anna.chat_id))
    await boris.send_text("для Бориса")  # answered in Boris's chat: Anna's waiter sleeps on
    assert checks["anna"] == 1 and not waiting.done()
    await anna.send_text("для Анны")
    assert await waiting is True
    assert checks["anna"] == 2


async def test_wait_for_a_chat_times_out_with_the_state(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_text("ping")
    with pytest.raises(TimeoutError, match=r"(?s)condition not met.*chat 1001.*'ping'"):
        await polling.wait_for(lambda: False, timeout=0.05, chat_id=anna.chat_id)
