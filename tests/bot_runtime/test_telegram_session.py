"""The bot's session keeps its Response[...] types alive instead of rebuilding them, and sends
a request without files as one JSON body."""

from __future__ import annotations

import gc
import json
import weakref

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendDocument, SendMessage
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import SecretStr

from bot.app.telegram import TelegramSession, make_bot
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram


def _parametrise(returning: object) -> type:
    # Inside a function, as aiogram's check_response does: pydantic registers a
    # module-level parametrisation in the module's globals, which would hide the problem.
    return Response[returning]  # type: ignore[valid-type,no-any-return]


def test_response_type_is_built_once_and_survives_gc() -> None:
    session = TelegramSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9"))
    first = session.response_type(Message)
    first_ref = weakref.ref(first)
    del first
    gc.collect()
    assert first_ref() is not None
    assert _parametrise(Message) is first_ref()  # pydantic's own lookup finds it too
    assert session.response_type(Message) is first_ref()


def test_without_the_session_pydantic_drops_the_type() -> None:
    # The reason for the session: with no strong reference the class is collected.
    ref = weakref.ref(_parametrise(list[Message]))
    gc.collect()
    assert ref() is None


async def test_bot_requests_reuse_the_type(fake_tg: FakeTelegram, bot: Bot) -> None:
    user = fake_tg.user(31)
    session = bot.session
    assert isinstance(session, TelegramSession)
    await bot.send_message(user.id, "one")
    built = session.response_types[Message]
    gc.collect()
    await bot.send_message(user.id, "two")
    assert session.response_types[Message] is built
    assert _parametrise(Message) is built


def test_production_bot_uses_the_session() -> None:
    settings = Settings.model_construct(
        bot_token=SecretStr("123:abc"), telegram_api_url="http://127.0.0.1:9"
    )
    assert isinstance(make_bot(settings).session, TelegramSession)


def test_a_request_without_files_is_one_json_object() -> None:
    session = TelegramSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9"))
    bot = Bot("123:abc", session=session, default=DefaultBotProperties(parse_mode="HTML"))
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]]
    )
    method = SendMessage(chat_id=7, text="<b>Привет</b>", reply_markup=keyboard)
    body = session.build_json_body(bot, method)
    assert body is not None
    assert json.loads(body) == {
        "chat_id": 7,
        "text": "<b>Привет</b>",
        "parse_mode": "HTML",  # the bot's default, resolved as aiogram's form resolves it
        "reply_markup": {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]},
    }
    upload = SendDocument(chat_id=7, document=BufferedInputFile(b"x", filename="a.txt"))
    assert session.build_json_body(bot, upload) is None  # uploads: multipart, as aiogram


async def test_requests_reach_telegram_as_json_and_uploads_as_multipart(
    fake_tg: FakeTelegram, bot: Bot
) -> None:
    user = fake_tg.user(32)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]]
    )
    sent = await bot.send_message(user.id, "<b>один</b>", reply_markup=keyboard)
    assert sent.text is not None and sent.text.startswith("один")  # the answer, parsed
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    call = fake_tg.calls("sendMessage")[-1]
    # A JSON body keeps the types (a form would have sent "32" and a JSON string).
    assert call.params["chat_id"] == user.id
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]
    }

    await bot.send_document(user.id, BufferedInputFile(b"report", filename="r.csv"))
    document = user.bot_messages()[-1].document
    assert document is not None and document.content == b"report"

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("два", chat_id=user.id, message_id=999_999)
