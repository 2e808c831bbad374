"""Telegram's limits and error answers, as the real aiogram Bot receives them over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.fake_telegram import FakeTelegram, ManualClock, make_bot

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="b", callback_data=data)]]
    )


async def test_text_length_counts_visible_characters(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    await bot.send_message(chat, "x" * 4096)
    await bot.send_message(chat, "<b>" + "&amp;" * 4096 + "</b>")  # 4096 after parsing
    assert tg.bot_messages(chat)[-1].text == "&" * 4096
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(chat, "x" * 4097)
    assert caught.value.message == "Bad Request: message is too long"
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(chat, "<b> </b>")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("ё</b>", "Unexpected end tag at byte offset 2"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ],
)
async def test_malformed_html_is_refused(
    tg: FakeTelegram, bot: Bot, text: str, detail: str
) -> None:
    chat = tg.user(1).chat_id
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(chat, text)
    assert caught.value.message == f"Bad Request: can't parse entities: {detail}"
    assert tg.bot_messages(chat) == []


async def test_callback_data_is_limited_to_64_bytes(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    await bot.send_message(chat, "ok", reply_markup=keyboard("я" * 32))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(chat, "too long", reply_markup=keyboard("я" * 32 + "x"))
    assert [m.text for m in tg.bot_messages(chat)] == ["ok"]


async def test_edits_and_deletes(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    sent = await bot.send_message(chat, "<b>card</b>", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "<b>card</b>", chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    assert caught.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match=NOT_MODIFIED):
        await bot.edit_message_reply_markup(
            chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    # Same visible text, different formatting: Telegram counts that as a change.
    await bot.edit_message_text(
        "card", chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("a")
    )
    await bot.edit_message_reply_markup(
        chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("b")
    )
    stored = tg.bot_messages(chat)[0]
    assert stored.text == "card" and stored.entities == ()
    assert [b.callback_data for b in stored.buttons] == ["b"]
    assert len(stored.history) == 2

    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=chat, message_id=999)
    assert await bot.delete_message(chat, sent.message_id)
    assert tg.bot_messages(chat) == [] and tg.messages(chat, include_deleted=True)[0].deleted
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("y", chat_id=chat, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(chat, sent.message_id)


async def test_callback_answer_only_once(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user(1)
    await bot.send_message(anna.chat_id, "card", reply_markup=keyboard("a"))
    query = await anna.press("b", wait=False)
    assert await bot.answer_callback_query(query.id, text="ok")
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    for query_id in (query.id, "no-such-query"):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.answer_callback_query(query_id)
        assert caught.value.message == too_old
    assert [(q.text, q.show_alert) for q in anna.alerts()] == [("ok", False)]


async def test_blocked_unknown_and_migrated_chats(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user(1)
    anna.block_bot()
    with pytest.raises(TelegramForbiddenError) as blocked:
        await bot.send_message(anna.chat_id, "hi")
    assert blocked.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramBadRequest) as missing:
        await bot.send_message(424242, "hi")
    assert missing.value.message == "Bad Request: chat not found"

    group = tg.group(-4001, "Команда")
    supergroup = group.migrate_to_supergroup(-1004001)
    with pytest.raises(TelegramMigrateToChat) as moved:
        await bot.send_message(group.chat_id, "hi")
    assert moved.value.migrate_to_chat_id == -1004001
    await bot.send_message(supergroup.chat_id, "hi")
    assert [m.text for m in supergroup.bot_messages()] == ["hi"]
    assert tg.chat(supergroup.chat_id).type == "supergroup"


async def test_unknown_method_is_recorded(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    with pytest.raises(TelegramNotFound, match="Not Found: method not found"):
        await bot.pin_chat_message(chat, 1)
    assert tg.unknown_methods == ["pinChatMessage"]


async def test_commands_are_recorded_per_scope_and_language(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    await bot.set_my_commands(
        [BotCommand(command="list", description="Consultations")],
        scope=BotCommandScopeChat(chat_id=5),
        language_code="en",
    )
    await bot.set_my_commands(
        [BotCommand(command="help", description="Помощь")],
        scope=BotCommandScopeAllPrivateChats(),
    )
    assert tg.commands() == [("start", "Начать")]
    assert tg.commands(BotCommandScopeChat(chat_id=5), "en") == [("list", "Consultations")]
    assert tg.commands({"type": "chat", "chat_id": 5}) == []  # other language
    assert tg.commands("all_private_chats") == [("help", "Помощь")]
    got = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=5), language_code="en")
    assert [c.command for c in got] == ["list"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def limited(clock: ManualClock) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram(clock=clock) as fake:
        fake.rate_limits.enabled = True
        bot = make_bot(fake)
        yield fake, bot
        await bot.session.close()


async def test_per_chat_rate_limit(limited: tuple[FakeTelegram, Bot], clock: ManualClock) -> None:
    tg, bot = limited
    chat = tg.user(1).chat_id
    await bot.send_message(chat, "one")
    clock.advance(0.4)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(chat, "two")
    assert caught.value.retry_after == 1
    assert "Original description: Too Many Requests: retry after 1" in caught.value.message
    clock.advance(0.6)
    await bot.send_message(chat, "two")
    assert [(d.chat_id, d.at) for d in tg.deliveries()] == [(chat, 1000.0), (chat, 1001.0)]
    assert tg.too_many_requests_sent == 1


async def test_group_and_overall_rate_limits(
    limited: tuple[FakeTelegram, Bot], clock: ManualClock
) -> None:
    tg, bot = limited
    group = tg.group(-500, "Команда").chat_id
    for n in range(20):
        await bot.send_message(group, f"{n}")
        clock.advance(1.0)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group, "21st within a minute")
    assert caught.value.retry_after == 40

    users = [tg.user(100 + n).chat_id for n in range(31)]
    for chat in users[:30]:
        await bot.send_message(chat, "burst")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[30], "31st within a second")
    assert tg.too_many_requests_sent == 2


async def test_forced_429(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    tg.force_429(2, retry_after=7)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(chat, "storm")
        assert caught.value.retry_after == 7
    await bot.send_message(chat, "through")
    assert [m.text for m in tg.bot_messages(chat)] == ["through"]
    assert tg.too_many_requests_sent == 2
    assert [c.status for c in tg.calls("sendMessage")] == [429, 429, 200]


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    stranger = make_bot(tg, token="999:someone-else")
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()


async def test_reply_keyboard_lives_under_the_input_field(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user(1)
    share = KeyboardButton(text="Поделиться", request_contact=True)
    await bot.send_message(
        anna.chat_id, "Телефон?", reply_markup=ReplyKeyboardMarkup(keyboard=[[share]])
    )
    assert anna.reply_keyboard() == [["Поделиться"]]
    assert anna.last_bot_message().buttons == []
    await bot.send_message(anna.chat_id, "Спасибо", reply_markup=ReplyKeyboardRemove())
    assert anna.reply_keyboard() is None
    assert [c.method for c in tg.calls()] == ["sendMessage", "sendMessage"]
