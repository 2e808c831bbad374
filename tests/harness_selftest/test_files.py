"""Files both ways: the user uploads, the bot downloads via getFile, the bot sends files back."""

from __future__ import annotations

import hashlib

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from tests.fake_telegram import FakeTelegram

MB = 1024 * 1024


async def test_document_round_trip_is_byte_identical(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    content = bytes(range(256)) * 4096 + b"tail"  # ~1 MB, every byte value
    await anna.send_document(content, "анализы.pdf", "application/pdf")

    reply = anna.last_bot_message()
    assert reply.document is not None
    assert reply.document.content == content
    assert reply.document.file_name == "copy-анализы.pdf"
    assert reply.caption == f"sha256 {hashlib.sha256(content).hexdigest()}"
    assert [e.type for e in reply.caption_entities] == ["code"]
    assert [c.method for c in polling.calls()][-2:] == ["getFile", "sendDocument"]


async def test_declared_size_is_checked_without_bytes(polling: FakeTelegram) -> None:
    anna = polling.user(1001)
    await anna.send_document(b"", "scan.pdf", "application/pdf", declared_size=15 * MB)
    assert anna.last_bot_message().text == f"Файл больше 10 МБ ({15 * MB} байт)"
    assert polling.calls("getFile") == []


async def test_get_file_over_20_mb_is_refused(tg: FakeTelegram, bot: Bot) -> None:
    big = tg.add_file(None, file_name="big.pdf", declared_size=20 * MB + 1)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.get_file(big.file_id)
    assert caught.value.message == "Bad Request: file is too big"
    fits = tg.add_file(None, file_name="fits.pdf", declared_size=20 * MB)
    info = await bot.get_file(fits.file_id)
    assert info.file_size == 20 * MB


async def test_get_file_unknown_id(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="wrong file_id"):
        await bot.get_file("nope")


async def test_bot_sends_photo_and_chat_action(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    await bot.send_chat_action(chat, "upload_document")
    sent = await bot.send_photo(
        chat, BufferedInputFile(b"\x89PNG fake", "p.png"), caption="<b>Фото</b>"
    )
    assert sent.photo is not None and sent.photo[-1].file_size == len(b"\x89PNG fake")
    stored = tg.bot_messages(chat)[0]
    assert stored.photo is not None and stored.photo.content == b"\x89PNG fake"
    assert stored.caption == "Фото" and stored.caption_html == "<b>Фото</b>"
    assert tg.state.chat_actions == [(chat, "upload_document")]
    # Re-sending by file_id reuses the stored file, as Telegram does.
    await bot.send_photo(chat, sent.photo[-1].file_id)
    assert tg.bot_messages(chat)[1].photo is stored.photo
