"""The bot's session keeps its Response[...] types alive instead of rebuilding them."""

from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods.base import Response
from aiogram.types import Message
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
