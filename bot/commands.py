"""The command menu each user sees: by role and language (``set_my_commands`` with scopes).

Defaults (strangers): ``/start``, ``/help`` for every private chat, in Russian for the clients
the bot answers in Russian (ru, uk, be, kk) and English otherwise. A user with a role gets a
menu for their own chat; routers call ``apply_user_commands`` whenever a role or the language
changes, and ``reset_user_commands`` when access is revoked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)

from bot.i18n import I18n
from storage.enums import Role

log = logging.getLogger(__name__)

STRANGER_COMMANDS: tuple[str, ...] = ("start", "help")
ROLE_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.COORDINATOR: (
        "start_callback", "list", "find", "report", "cancel", "settings", "timezone",
        "language", "help",
    ),
    Role.DOCTOR: ("list", "report", "settings", "timezone", "language", "help"),
    Role.ADMIN: (
        "start_callback", "list", "find", "report", "invite", "invites", "users", "doctors",
        "cancel", "settings", "timezone", "language", "help",
    ),
}


def commands_for(role: Role | str | None, lang: str, i18n: I18n) -> list[BotCommand]:
    names = ROLE_COMMANDS[Role(role)] if role else STRANGER_COMMANDS
    t = i18n.translator(lang)
    return [BotCommand(command=name, description=t(f"cmd-{name}")) for name in names]


# Telegram language codes whose users the bot answers in Russian (bot/i18n.py): their
# default menu must be Russian too, or it would be the English fallback.
RUSSIAN_MENU_CODES: tuple[str, ...] = ("ru", "uk", "be", "kk")


async def set_default_commands(bot: Bot, i18n: I18n) -> None:
    """Menus for everyone without a personal one; no menu in groups (nothing to do there)."""
    menus: list[tuple[str | None, str]] = [(code, "ru") for code in RUSSIAN_MENU_CODES]
    for code, lang in [*menus, (None, "en")]:
        await bot.set_my_commands(
            commands_for(None, lang, i18n),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=code,
        )
    await bot.delete_my_commands(scope=BotCommandScopeAllGroupChats())


async def apply_user_commands(
    bot: Bot, i18n: I18n, *, telegram_id: int, role: Role | str | None, lang: str
) -> None:
    """Set the personal menu of one user (None role → back to the defaults)."""
    scope = BotCommandScopeChat(chat_id=telegram_id)
    try:
        if role is None:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(commands_for(role, lang, i18n), scope=scope)
    except TelegramAPIError as exc:
        # A menu is a convenience: a chat we cannot reach must not fail the caller's flow.
        log.warning("set_commands_failed user_id=%s error=%s", telegram_id, type(exc).__name__)


async def reset_user_commands(bot: Bot, telegram_id: int) -> None:
    """Back to the default (stranger) menu, e.g. after a revoke."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=telegram_id))
    except TelegramAPIError as exc:
        log.warning("reset_commands_failed user_id=%s error=%s", telegram_id, type(exc).__name__)


async def set_admin_commands(
    bot: Bot, i18n: I18n, admins: Iterable[tuple[int, str]]
) -> None:
    """At start-up: ADMIN_IDS get their menu even before their first message."""
    for telegram_id, lang in admins:
        await apply_user_commands(bot, i18n, telegram_id=telegram_id, role=Role.ADMIN, lang=lang)
