"""/language, /timezone, /settings — and the time zone asked right after an invite.

/settings shows the notification mode and the morning digest's time; the digest's buttons
and its typed time are bot/routers/digest_settings.py's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import LangPick, NotifyPick, TzCity
from bot.i18n import LANGUAGES, I18n, Translator
from bot.keyboards.access import NOTIFY_MODES, language_keyboard, notify_keyboard, timezone_keyboard
from bot.keyboards.digest import with_digest_rows
from bot.middlewares.access import role_of
from bot.rendering.access import (
    CITY_BY_KEY,
    TimezoneParseError,
    ZoneChoice,
    greeting_text,
    parse_timezone,
    zone_title,
)
from bot.rendering.digest import digest_setting_text
from bot.rendering.time import format_local
from bot.routers.start import (
    TYPED_ANSWER,
    clear_state,
    enter_state,
    i18n_or_default,
    refresh_command_menu,
    show,
)
from bot.services.access import Action, Actor, allowed
from bot.services.digest_settings import digest_schedule, local_day
from bot.states import AccessStates
from storage.db import utcnow
from storage.enums import NotifyMode
from storage.models import User
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)


_ZONE_STATES = StateFilter(AccessStates.timezone, AccessStates.join_timezone)


def _translator(i18n: I18n | None, lang: str) -> Translator:
    return i18n_or_default(i18n).translator(lang)


def _now_text(tz: ZoneInfo, lang: str) -> str:
    return format_local(datetime.now(UTC), tz, lang, with_date=True)


# --- /language ------------------------------------------------------------------------------


async def language_command(message: Message, user: User, t: Translator) -> None:
    await message.answer(t("access-language-ask"), reply_markup=language_keyboard(user.language))


async def language_picked(
    query: CallbackQuery,
    callback_data: LangPick,
    user: User,
    session: AsyncSession,
    bot: Bot,
    i18n: I18n | None = None,
) -> None:
    if callback_data.lang not in LANGUAGES:
        await query.answer(_translator(i18n, "en")("access-stale-button"), show_alert=True)
        return
    await query.answer()
    await UserRepository(session).set_language(user.telegram_id, callback_data.lang)
    user.language = callback_data.lang
    t = _translator(i18n, callback_data.lang)
    await show(query, t("access-language-set"), language_keyboard(callback_data.lang))
    await refresh_command_menu(
        bot, i18n, telegram_id=user.telegram_id, role=role_of(user), lang=callback_data.lang
    )


# --- /timezone ------------------------------------------------------------------------------


async def timezone_command(
    message: Message,
    user: User,
    t: Translator,
    tz: ZoneInfo,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    await enter_state(session, state, AccessStates.timezone)
    await message.answer(
        t("access-timezone-current", zone=zone_title(tz.key, t.lang), now=_now_text(tz, t.lang)),
        reply_markup=timezone_keyboard(t.lang),
    )


async def timezone_city(
    query: CallbackQuery,
    callback_data: TzCity,
    user: User,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    city = CITY_BY_KEY.get(callback_data.city)
    if city is None:
        await query.answer(t("access-stale-button"), show_alert=True)
        return
    await query.answer()
    choice = ZoneChoice(city.zone, ZoneInfo(city.zone))
    await _apply_zone(query, choice, user, t, session, state)


async def timezone_typed(
    message: Message, user: User, t: Translator, session: AsyncSession, state: FSMContext
) -> None:
    try:
        choice = parse_timezone(message.text or "")
    except TimezoneParseError:
        await message.answer(t("access-timezone-bad"), reply_markup=timezone_keyboard(t.lang))
        return
    await _apply_zone(message, choice, user, t, session, state)


async def timezone_not_text(
    message: Message, t: Translator, tz: ZoneInfo, state: FSMContext
) -> None:
    """A document, photo or sticker while a zone is awaited: the same question again (the
    generic "I don't understand" would leave the user without the buttons)."""
    if await state.get_state() == AccessStates.join_timezone.state:
        text = t("access-join-timezone")
    else:
        text = t(
            "access-timezone-current", zone=zone_title(tz.key, t.lang), now=_now_text(tz, t.lang)
        )
    await message.answer(text, reply_markup=timezone_keyboard(t.lang))


async def timezone_cancel(
    message: Message, user: User, t: Translator, state: FSMContext, session: AsyncSession
) -> None:
    joining = await state.get_state() == AccessStates.join_timezone.state
    await clear_state(session, state)
    await message.answer(t("access-cancelled"))
    if joining:  # the default zone stays; the newcomer still learns what they can do
        await message.answer(_greeting(message, user, t))


async def _apply_zone(
    event: CallbackQuery | Message,
    choice: ZoneChoice,
    user: User,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await UserRepository(session).set_timezone(user.telegram_id, choice.key)
    user.timezone = choice.key
    joining = await state.get_state() == AccessStates.join_timezone.state
    await clear_state(session, state)
    log.info("timezone_set user_id=%s zone=%s", user.telegram_id, choice.key)
    zone = zone_title(choice.key, t.lang)
    text = t("access-timezone-set", zone=zone, now=_now_text(choice.tz, t.lang))
    if isinstance(event, CallbackQuery):
        await show(event, text)  # drops the city buttons: the choice is made
    else:
        await event.answer(text)
    if joining:
        greeting = _greeting(event, user, t)
        if isinstance(event, CallbackQuery):
            assert event.bot is not None
            await event.bot.send_message(user.telegram_id, greeting)
        else:
            await event.answer(greeting)


def _greeting(event: CallbackQuery | Message, user: User, t: Translator) -> str:
    name = event.from_user.full_name if event.from_user else user.display_name
    return greeting_text(t, role_of(user), name, user.doctor_id)


# --- /settings ------------------------------------------------------------------------------


def _settings_text(t: Translator, mode: str) -> str:
    return t(
        "access-settings-current",
        mode=t(f"access-notify-{mode}"),
        description=t(f"access-notify-{mode}-help"),
    )


async def settings_screen(
    session: AsyncSession, user: User, actor: Actor, t: Translator, tz: ZoneInfo, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    """The /settings message: notification mode, then the morning digest (members only:
    the digest lists consultations)."""
    mode = NotifyMode(user.notify_mode).value
    text, markup = _settings_text(t, mode), notify_keyboard(t, mode)
    if not allowed(actor, Action.LIST):
        return text, markup
    schedule = await digest_schedule(session, actor, now=now, tz=tz)
    digest = digest_setting_text(
        t,
        schedule.choice.at,
        is_default=schedule.choice.is_default,
        next_day=schedule.next_day,
        today=local_day(now, tz),
        tz=tz,
        lang=t.lang,
        now=now,
    )
    return f"{text}\n\n{digest}", with_digest_rows(markup, t, schedule.choice.at)


async def settings_command(
    message: Message,
    user: User,
    actor: Actor,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    clock: Callable[[], datetime] | None = None,
) -> None:
    text, markup = await settings_screen(session, user, actor, t, tz, (clock or utcnow)())
    await message.answer(text, reply_markup=markup)


async def settings_picked(
    query: CallbackQuery,
    callback_data: NotifyPick,
    user: User,
    actor: Actor,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    clock: Callable[[], datetime] | None = None,
) -> None:
    if callback_data.mode not in NOTIFY_MODES:
        await query.answer(t("access-stale-button"), show_alert=True)
        return
    mode = NotifyMode(callback_data.mode)
    await query.answer(t("access-settings-set", mode=t(f"access-notify-{mode.value}")))
    await UserRepository(session).set_notify_mode(user.telegram_id, mode)
    user.notify_mode = mode
    await show(query, *await settings_screen(session, user, actor, t, tz, (clock or utcnow)()))


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.preferences")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_picked, LangPick.filter())
    router.message.register(timezone_command, Command("timezone"))
    router.callback_query.register(timezone_city, TzCity.filter())
    router.message.register(timezone_typed, _ZONE_STATES, *TYPED_ANSWER)
    router.message.register(timezone_cancel, _ZONE_STATES, Command("cancel"))
    router.message.register(timezone_not_text, _ZONE_STATES, ~F.text)
    router.message.register(settings_command, Command("settings"))
    router.callback_query.register(settings_picked, NotifyPick.filter())
    return router
