"""/settings → the morning digest: a preset time, Off, or "Other time…" and a typed HH:MM.

The choice is stored by the service (bot/services/digest_settings.py, which asks the access
policy) and the /settings message is redrawn with it; a typed time that does not parse is
answered with what is expected and asked again (/cancel leaves it; the cancel router clears
the state). Times are wall-clock times in the user's zone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import DigestPick
from bot.i18n import Translator
from bot.input_parsing.clock_time import parse_clock_time
from bot.input_parsing.errors import InputError
from bot.keyboards.digest import OFF, OTHER, PRESETS
from bot.rendering.access import zone_title
from bot.rendering.digest import clock_text
from bot.routers.preferences import settings_screen
from bot.routers.start import TYPED_ANSWER, clear_state, enter_state, show
from bot.services.access import Actor
from bot.services.digest_settings import choose_digest_time
from bot.states import AccessStates
from storage.db import utcnow
from storage.models import User

log = logging.getLogger(__name__)

_TYPING = StateFilter(AccessStates.digest_time)


def _ask(t: Translator, tz: ZoneInfo) -> str:
    return t("digest-time-ask", zone=zone_title(tz.key, t.lang))


def _toast(t: Translator, at: time | None) -> str:
    return t("digest-off-toast") if at is None else t("digest-set-toast", time=clock_text(at))


async def digest_picked(
    query: CallbackQuery,
    callback_data: DigestPick,
    user: User,
    actor: Actor,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    if callback_data.at == OTHER:
        await query.answer()
        await enter_state(session, state, AccessStates.digest_time)
        # A new message: the settings above stay as they were until a time is typed.
        await show(query.message if isinstance(query.message, Message) else query, _ask(t, tz))
        return
    if callback_data.at != OFF and callback_data.at not in PRESETS:
        await query.answer(t("access-stale-button"), show_alert=True)
        return
    at = None if callback_data.at == OFF else PRESETS[callback_data.at]
    now = (clock or utcnow)()
    await choose_digest_time(session, actor, at, now=now, tz=tz)
    await clear_state(session, state)  # a pressed time ends a pending "Other time…"
    await query.answer(_toast(t, at))
    await show(query, *await settings_screen(session, user, actor, t, tz, now))


async def digest_typed(
    message: Message,
    user: User,
    actor: Actor,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    try:
        at = parse_clock_time(message.text or "")
    except InputError as exc:
        await message.answer(t(exc.reason))
        return
    now = (clock or utcnow)()
    await choose_digest_time(session, actor, at, now=now, tz=tz)
    await clear_state(session, state)
    text, markup = await settings_screen(session, user, actor, t, tz, now)
    await message.answer(text, reply_markup=markup)


async def digest_not_text(message: Message, t: Translator, tz: ZoneInfo) -> None:
    """A photo or sticker while a time is awaited: the question again."""
    await message.answer(_ask(t, tz))


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.digest")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(digest_picked, DigestPick.filter())
    router.message.register(digest_typed, _TYPING, *TYPED_ANSWER)
    router.message.register(digest_not_text, _TYPING, ~F.text)
    return router
