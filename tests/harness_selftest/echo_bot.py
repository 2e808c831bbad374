"""A bare aiogram bot used to prove the fake Telegram end to end (not production code)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

TEN_MB = 10 * 1024 * 1024


class Vote(CallbackData, prefix="v"):
    choice: str


@dataclass
class Seen:
    """What the handlers observed, for assertions the chat cannot show."""

    media_groups: list[str | None] = field(default_factory=list)
    release_later: asyncio.Event = field(default_factory=asyncio.Event)


def vote_keyboard() -> InlineKeyboardBuilder:
    builder = InlineKeyboardBuilder()
    builder.button(text="Да", callback_data=Vote(choice="yes"))
    builder.button(text="Нет", callback_data=Vote(choice="no"))
    return builder


async def start(message: Message, command: CommandObject) -> None:
    name = message.from_user.first_name if message.from_user else "?"
    suffix = f" ({html.quote(command.args)})" if command.args else ""
    await message.answer(
        f"Привет, <b>{html.quote(name)}</b>{suffix}! Согласны?",
        reply_markup=vote_keyboard().as_markup(),
    )


async def voted(callback: CallbackQuery, callback_data: Vote) -> None:
    await callback.answer(f"Выбрано: {callback_data.choice}", show_alert=True)
    if callback.message is not None and isinstance(callback.message, Message):
        await callback.message.edit_text(f"Ваш ответ: <i>{callback_data.choice}</i>")


async def unknown_button(callback: CallbackQuery) -> None:
    await callback.answer("Кнопка устарела")


async def later(message: Message, bot: Bot, seen: Seen) -> None:
    # An effect that happens after the handler returned, like an outbox message.
    async def send_when_released() -> None:
        await seen.release_later.wait()
        await bot.send_message(message.chat.id, "Позже")

    asyncio.get_running_loop().create_task(send_when_released())
    await message.answer("Сейчас")


async def album_part(message: Message, seen: Seen) -> None:
    seen.media_groups.append(message.media_group_id)


async def document(message: Message, bot: Bot) -> None:
    assert message.document is not None
    size = message.document.file_size or 0
    if size > TEN_MB:
        await message.answer(f"Файл больше 10 МБ ({size} байт)")
        return
    try:
        info = await bot.get_file(message.document.file_id)
    except TelegramBadRequest as exc:
        await message.answer(f"getFile: {html.quote(exc.message)}")
        return
    assert info.file_path is not None
    buffer = await bot.download_file(info.file_path)
    assert buffer is not None
    content = buffer.read()
    await message.answer_document(
        BufferedInputFile(content, filename=f"copy-{message.document.file_name}"),
        caption=f"sha256 <code>{hashlib.sha256(content).hexdigest()}</code>",
    )


async def contact(message: Message) -> None:
    assert message.contact is not None
    await message.answer(f"Контакт: {html.quote(message.contact.phone_number)}")


async def echo(message: Message) -> None:
    assert message.text is not None
    await message.answer(html.quote(message.text))


def create_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router()
    router.message.register(start, CommandStart())
    router.callback_query.register(voted, Vote.filter())
    router.callback_query.register(unknown_button)
    router.message.register(later, Command("later"))
    router.message.register(album_part, F.media_group_id)
    router.message.register(document, F.document)
    router.message.register(contact, F.contact)
    router.message.register(echo, F.text)
    return router


def create_dispatcher(seen: Seen | None = None) -> Dispatcher:
    dp = Dispatcher(seen=seen or Seen())
    dp.include_router(create_router())
    return dp
