"""/users: a paged list with role, doctor id and reachability; change a role or revoke.

Parse → ``bot.services.users.Users`` (which checks ``MANAGE_USERS`` against the presser's
role as stored now; a refusal is answered by the errors router) → render. Every change
resets that user's command menu.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import UsersAction, UsersCb
from bot.i18n import I18n, Translator, language_of
from bot.keyboards.access import (
    doctor_pick_keyboard,
    revoke_confirm_keyboard,
    user_card_keyboard,
    users_keyboard,
)
from bot.middlewares.access import role_of
from bot.rendering.access import (
    USERS_PAGE_SIZE,
    Page,
    parse_doctor_id,
    role_name,
    user_card_text,
    user_display_name,
    users_text,
)
from bot.routers.start import (
    TYPED_ANSWER,
    clear_state,
    enter_state,
    refresh_command_menu,
    show,
    with_notice,
)
from bot.services.users import Refusal, TargetRefused, Users
from bot.settings import Settings
from bot.states import AccessStates
from storage.enums import Role
from storage.models import User

_REFUSAL_TEXT = {
    Refusal.GONE: "access-user-gone",
    Refusal.SELF: "access-user-self",
    Refusal.CONFIG_ADMIN: "access-user-config-admin",
}


async def users_page(
    users: Users, me: int, t: Translator, number: int, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    listing = await users.page(me, number, USERS_PAGE_SIZE)
    page = Page(listing.number, listing.pages)
    with_roles = [(u, role_of(u)) for u in listing.rows]
    text = with_notice(notice, users_text(t, with_roles, page, listing.total))
    markup = users_keyboard(t, [(u.telegram_id, u, r) for u, r in with_roles], page)
    return text, markup


def card(
    t: Translator, users: Users, target: User, page: int, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    is_config_admin = users.is_config_admin(target)
    role = role_of(target)
    text = with_notice(notice, user_card_text(t, target, role, is_config_admin=is_config_admin))
    markup = user_card_keyboard(
        t,
        target.telegram_id,
        role,
        is_active=target.is_active,
        is_config_admin=is_config_admin,
        page=page,
    )
    return text, markup


def changed_card(
    t: Translator, users: Users, target: User, page: int, role: Role
) -> tuple[str, InlineKeyboardMarkup]:
    """The user's card under "<name> is now <role>"."""
    changed = t(
        "access-user-role-changed", name=user_display_name(target), role=role_name(t, role.value)
    )
    return card(t, users, target, page, notice=changed)


async def _menu_follows(bot: Bot, i18n: I18n | None, target: User) -> None:
    await refresh_command_menu(
        bot, i18n, telegram_id=target.telegram_id, role=role_of(target), lang=language_of(target)
    )


async def _pressed(
    query: CallbackQuery, t: Translator, call: Callable[[], Awaitable[User]]
) -> User | None:
    """The target of a press, or None after a short alert (gone, self, config admin).
    ``AccessDenied`` is not caught: the errors router answers it."""
    try:
        target = await call()
    except TargetRefused as refused:
        await query.answer(t(_REFUSAL_TEXT[refused.reason]), show_alert=True)
        return None
    await query.answer()
    return target


async def users_command(
    message: Message, t: Translator, session: AsyncSession, settings: Settings, state: FSMContext
) -> None:
    assert message.from_user is not None
    screen = await users_page(Users(session, settings.admin_ids), message.from_user.id, t, 0)
    await clear_state(session, state)
    await show(message, *screen)


async def users_paged(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    state: FSMContext,
) -> None:
    users = Users(session, settings.admin_ids)
    screen = await users_page(users, query.from_user.id, t, callback_data.page)
    await query.answer()
    await clear_state(session, state)
    await show(query, *screen)


async def user_open(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    state: FSMContext,
) -> None:
    users = Users(session, settings.admin_ids)
    target = await _pressed(query, t, lambda: users.open(query.from_user.id, callback_data.user_id))
    if target is None:
        return
    await clear_state(session, state)
    await show(query, *card(t, users, target, callback_data.page))


async def user_to_coordinator(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    i18n: I18n | None = None,
) -> None:
    users = Users(session, settings.admin_ids)
    target = await _pressed(
        query,
        t,
        lambda: users.set_role(query.from_user.id, callback_data.user_id, Role.COORDINATOR),
    )
    if target is None:
        return
    await _menu_follows(bot, i18n, target)
    await show(query, *changed_card(t, users, target, callback_data.page, Role.COORDINATOR))


async def user_to_doctor(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    i18n: I18n | None = None,
) -> None:
    users = Users(session, settings.admin_ids)
    me, target_id, page = query.from_user.id, callback_data.user_id, callback_data.page
    if callback_data.doctor_id <= 0:  # "Make a doctor…": ask which doctor first
        try:
            target, doctors = await users.doctor_choices(me, target_id)
        except TargetRefused as refused:
            await query.answer(t(_REFUSAL_TEXT[refused.reason]), show_alert=True)
            return
        await query.answer()
        await enter_state(
            session, state, AccessStates.user_doctor_id, user_pk=target.telegram_id, page=page
        )
        await show(
            query,
            t("access-user-ask-doctor", name=user_display_name(target)),
            doctor_pick_keyboard(t, doctors, target.telegram_id, page),
        )
        return
    doctor_id = callback_data.doctor_id
    doctor = await _pressed(query, t, lambda: users.set_role(me, target_id, Role.DOCTOR, doctor_id))
    if doctor is None:
        return
    await clear_state(session, state)
    await _menu_follows(bot, i18n, doctor)
    await show(query, *changed_card(t, users, doctor, page, Role.DOCTOR))


async def user_doctor_id_typed(
    message: Message,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    i18n: I18n | None = None,
) -> None:
    assert message.from_user is not None
    users = Users(session, settings.admin_ids)
    doctor_id = parse_doctor_id(message.text or "")
    if doctor_id is None:
        await users.check(message.from_user.id)  # demoted since the prompt: told that first
        await message.answer(t("access-doctor-bad-id"))
        return
    data = await state.get_data()
    await clear_state(session, state)
    try:
        target = await users.set_role(
            message.from_user.id, int(data.get("user_pk", 0)), Role.DOCTOR, doctor_id
        )
    except TargetRefused:
        await message.answer(t("access-user-gone"))
        return
    await _menu_follows(bot, i18n, target)
    await show(message, *changed_card(t, users, target, int(data.get("page", 0)), Role.DOCTOR))


async def user_revoke_ask(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
) -> None:
    users = Users(session, settings.admin_ids)
    target = await _pressed(
        query, t, lambda: users.changeable(query.from_user.id, callback_data.user_id)
    )
    if target is None:
        return
    await show(
        query,
        t("access-user-revoke-ask", name=user_display_name(target)),
        revoke_confirm_keyboard(t, target.telegram_id, callback_data.page),
    )


async def user_revoke(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    i18n: I18n | None = None,
) -> None:
    users = Users(session, settings.admin_ids)
    me = query.from_user.id
    try:
        revoked = await users.revoke(me, callback_data.user_id)
    except TargetRefused as refused:
        await query.answer(t(_REFUSAL_TEXT[refused.reason]), show_alert=True)
        return
    await query.answer()
    await refresh_command_menu(bot, i18n, telegram_id=revoked.telegram_id, role=None, lang=None)
    name = html.escape((revoked.display_name or "").strip()) or str(revoked.telegram_id)
    notice = t("access-user-revoked", name=name)
    await show(query, *await users_page(users, me, t, callback_data.page, notice=notice))


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.users")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(users_command, Command("users"))
    presses = (
        (users_paged, UsersAction.PAGE),
        (user_open, UsersAction.OPEN),
        (user_to_coordinator, UsersAction.TO_COORDINATOR),
        (user_to_doctor, UsersAction.TO_DOCTOR),
        (user_revoke_ask, UsersAction.REVOKE),
        (user_revoke, UsersAction.REVOKE_OK),
    )
    for on_press, action in presses:
        router.callback_query.register(on_press, UsersCb.filter(F.action == action))
    router.message.register(
        user_doctor_id_typed, StateFilter(AccessStates.user_doctor_id), *TYPED_ANSWER
    )
    return router
