"""The default menu speaks the language the bot speaks: clients whose Telegram language gets
the Russian texts (bot/i18n.py: ru, uk, be, kk) get the Russian menu, not the English one."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommandScopeAllPrivateChats

from bot.commands import RUSSIAN_MENU_CODES, set_default_commands
from bot.i18n import I18n, resolve_language
from tests.fake_telegram import FakeTelegram


async def test_default_menu_in_russian_for_every_russian_speaking_code(
    fake_tg: FakeTelegram, bot: Bot, i18n: I18n
) -> None:
    await set_default_commands(bot, i18n)
    scope = BotCommandScopeAllPrivateChats()
    russian = fake_tg.commands(scope, "ru")
    assert dict(russian)["help"] == "Помощь"
    for code in ("uk", "be", "kk"):
        assert fake_tg.commands(scope, code) == russian, code
    assert dict(fake_tg.commands(scope, ""))["help"] == "Help"
    assert fake_tg.commands(scope, "de") == []  # others fall back to the English default


def test_menu_codes_are_the_codes_the_bot_answers_in_russian() -> None:
    assert {resolve_language(None, code) for code in RUSSIAN_MENU_CODES} == {"ru"}
    assert {"ru", "uk", "be", "kk"} <= set(RUSSIAN_MENU_CODES)
