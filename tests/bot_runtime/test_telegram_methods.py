"""RemoveInlineKeyboard: the buttons go, and the edited message Telegram sends back is read
as "done" without being parsed into aiogram objects."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram_methods import Done, RemoveInlineKeyboard
from tests.fake_telegram import FakeTelegram


async def test_the_buttons_go_and_the_answer_is_done(fake_tg: FakeTelegram, bot: Bot) -> None:
    user = fake_tg.user(41)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]]
    )
    sent = await bot.send_message(user.id, "вопрос", reply_markup=keyboard)
    assert user.buttons(sent.message_id) == ["Да"]

    done = await bot(RemoveInlineKeyboard(chat_id=user.id, message_id=sent.message_id))
    assert done is True
    assert user.buttons(sent.message_id) == []
    assert fake_tg.calls()[-1].method == "editMessageReplyMarkup"
    # Telegram's refusals still raise: nothing left to remove.
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot(RemoveInlineKeyboard(chat_id=user.id, message_id=sent.message_id))


def test_done_reads_a_message_or_true_without_building_objects() -> None:
    answer = Response[Done]  # type: ignore[valid-type]
    assert answer.model_validate({"ok": True, "result": {"message_id": 5}}).result is True
    assert answer.model_validate({"ok": True, "result": True}).result is True
