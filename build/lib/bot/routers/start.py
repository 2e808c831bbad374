"""/start (with or without an invite code), /help, and the join sequence.

A stranger without a code is told they have no access and given their Telegram id (the first
admin bootstraps exactly so: that id goes into ADMIN_IDS). A stranger with a code consumes the
invite exactly once, becomes a coordinator or a doctor, is asked their time zone, and is then
greeted with what they can do (the greeting is sent by ``preferences`` once the zone is set).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.i18n import I18n, Translator
from bot.keyboards.access import timezone_keyboard
from bot.middlewares.access import answer_no_access, role_of
from bot.rendering.access import greeting_text, role_name
from bot.services.invites import accept_invite
from bot.settings import Settings
from bot.states import AccessStates
from storage.db import utcnow
from storage.enums import Role
from storage.models import User
from storage.repositories.invites import ConsumeStatus

log = logging.getLogger(__name__)


ALL_ROLES = frozenset({"admin", "coordinator", "doctor"})
# Handler flags read by the runtime's RoleFlagMiddleware (the admin screens no longer use
# them: their services ask the access policy).
MEMBER_FLAGS = {"roles": ALL_ROLES}
# Filters of a handler for a typed answer to a prompt: text, and not a command.
TYPED_ANSWER = (F.text, ~F.text.startswith("/"))

# token_urlsafe alphabet; Telegram allows at most 64 characters in a start parameter.
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

_CONSUME_TEXT = {
    ConsumeStatus.UNKNOWN: "access-invite-unknown",
    ConsumeStatus.EXPIRED: "access-invite-expired",
    ConsumeStatus.USED: "access-invite-used",
}


async def show(
    event: CallbackQuery | Message,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit the message under a pressed button, or send a new one when that is impossible."""
    message = event.message if isinstance(event, CallbackQuery) else event
    if isinstance(event, CallbackQuery) and isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return
            if "message can't be edited" not in exc.message and "not found" not in exc.message:
                raise
    if isinstance(event, CallbackQuery):
        if event.from_user is None:
            return
        bot = event.bot
        assert bot is not None
        await bot.send_message(event.from_user.id, text, reply_markup=markup)
    elif message is not None:
        await message.answer(text, reply_markup=markup)


def with_notice(notice: str | None, text: str) -> str:
    """What was just done, above the screen it leads back to."""
    return f"{notice}\n\n{text}" if notice else text


@cache
def _fallback_i18n() -> I18n:
    # Only when the dispatcher was built without an ``i18n`` kwarg: the texts are read-only,
    # so one parsed copy per process is harmless.
    return I18n()


def i18n_or_default(i18n: I18n | None) -> I18n:
    return i18n if i18n is not None else _fallback_i18n()


async def refresh_command_menu(
    bot: Bot, i18n: I18n | None, *, telegram_id: int, role: str | None, lang: str | None
) -> None:
    """Give one chat the command menu of its (new) role and language; None role → default.

    ``bot.commands`` swallows Telegram errors itself: a menu must never undo a role change.
    """
    if role is None:
        await commands.reset_user_commands(bot, telegram_id)
        return
    await commands.apply_user_commands(
        bot, i18n_or_default(i18n), telegram_id=telegram_id, role=role, lang=lang or "ru"
    )


async def enter_state(
    session: AsyncSession, state: FSMContext, new_state: State, **data: Any
) -> None:
    """Set an FSM state (and data) after committing the update's session.

    The FSM storage writes through its own connection; on SQLite a write transaction still
    open on the update's session (e.g. the user row touched by the middleware) would block it
    until the busy timeout. Committing first keeps the order of effects and frees the lock.
    """
    await session.commit()
    await state.set_state(new_state)
    if data:
        await state.update_data(**data)


async def clear_state(session: AsyncSession, state: FSMContext) -> None:
    """Leave any state (see ``enter_state`` for why the session is committed first)."""
    if await state.get_state() is None:
        return
    await session.commit()
    await state.clear()


async def send_greeting(message: Message, t: Translator, user: User) -> None:
    name = message.chat.full_name if message.chat else user.display_name
    await message.answer(greeting_text(t, role_of(user), name or user.display_name, user.doctor_id))


async def start_with_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User | None,
    t: Translator,
    state: FSMContext,
    bot: Bot,
    lang: str,
    i18n: I18n | None = None,
    clock: Callable[[], datetime] | None = None,
) -> None:
    if message.from_user is None:
        return
    tg_id = message.from_user.id
    code = (command.args or "").strip()
    if user is not None:
        # A member (or an admin testing the link) must not burn somebody else's invite.
        await message.answer(t("access-invite-already-member", role=role_name(t, role_of(user))))
        await send_greeting(message, t, user)
        return
    if not _CODE_RE.match(code):
        await message.answer(t("access-invite-unknown"))
        return
    accepted_invite = await accept_invite(
        session, tg_id, code, display_name=message.from_user.full_name, clock=clock or utcnow
    )
    joined = accepted_invite.user
    if joined is None:
        await message.answer(t(_CONSUME_TEXT.get(accepted_invite.status, "access-invite-unknown")))
        return
    await refresh_command_menu(bot, i18n, telegram_id=tg_id, role=role_of(joined), lang=lang)
    accepted = (
        t("access-invite-accepted-doctor", doctor_id=joined.doctor_id)
        if joined.role == Role.DOCTOR
        else t("access-invite-accepted-coordinator")
    )
    await enter_state(session, state, AccessStates.join_timezone)
    await message.answer(
        f"{accepted}\n\n{t('access-join-timezone')}", reply_markup=timezone_keyboard(t.lang)
    )


async def start(
    message: Message,
    user: User | None,
    t: Translator,
    settings: Settings,
    state: FSMContext,
) -> None:
    if message.from_user is None:
        return
    if user is None:
        await answer_no_access(message, t, message.from_user.id)
        if not settings.admin_ids:
            await message.answer(t("access-bootstrap-hint"))
        return
    if await state.get_state() == AccessStates.join_timezone.state:
        # Still choosing a zone after joining: ask again rather than skip it.
        await message.answer(t("access-join-timezone"), reply_markup=timezone_keyboard(t.lang))
        return
    await send_greeting(message, t, user)


async def help_command(message: Message, user: User, t: Translator) -> None:
    await send_greeting(message, t, user)


# Callback prefixes of the access screens (bot/keyboards/access.py).
_ACCESS_PREFIXES = ("atz:", "alg:", "ant:", "ainv:", "aus:", "adr:")


async def leave_stale_access_state(
    event: Message | CallbackQuery, session: AsyncSession, state: FSMContext
) -> None:
    """Another command or another flow's button ends an access prompt, then goes on.

    aiogram-dialog (the wizard) does not use the FSM state, so a forgotten "type a time
    zone" prompt would otherwise swallow the text meant for the next dialog's step.
    """
    current = await state.get_state()
    if isinstance(event, Message):
        command = (event.text or "").split(maxsplit=1)[0].split("@", 1)[0].lower()
        keep = command == "/cancel" or (
            command == "/start" and current == AccessStates.join_timezone.state
        )
    else:
        keep = (event.data or "").startswith(_ACCESS_PREFIXES)
    if not keep:
        await clear_state(session, state)
    raise SkipHandler()


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.start")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(
        leave_stale_access_state, StateFilter(AccessStates), F.text.startswith("/")
    )
    router.callback_query.register(leave_stale_access_state, StateFilter(AccessStates))
    router.message.register(start_with_code, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"), flags=MEMBER_FLAGS)
    return router
