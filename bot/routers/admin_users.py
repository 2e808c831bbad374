"""/users: a paged list with role, doctor id and reachability; change a role or revoke.

Revoking deletes the user's row (the runtime's convention: ``is_active`` only means "their
private chat is reachable"), so the next message from them meets the stranger's answer; the
audit log keeps the bare id. Every change resets that user's command menu.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import I18n, Translator, language_of
from bot.keyboards.access import (
    UsersAction,
    UsersCb,
    doctor_pick_keyboard,
    revoke_confirm_keyboard,
    user_card_keyboard,
    users_keyboard,
)
from bot.middlewares.access import role_of
from bot.rendering.access import (
    USERS_PAGE_SIZE,
    page_of,
    parse_doctor_id,
    role_name,
    user_card_text,
    user_display_name,
    users_text,
)
from bot.routers.start import (
    ADMIN_FLAGS,
    TYPED_ANSWER,
    audit,
    clear_state,
    enter_state,
    refresh_command_menu,
    show,
    show_list_page,
    with_notice,
)
from bot.settings import Settings
from bot.states import AccessStates
from storage.enums import Role
from storage.models import User
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)


async def users_page(
    session: AsyncSession, t: Translator, number: int, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    repo = UserRepository(session)
    _, total = await repo.list_all(limit=1)
    page = page_of(total, number, USERS_PAGE_SIZE)
    rows, total = await repo.list_all(limit=USERS_PAGE_SIZE, offset=page.number * USERS_PAGE_SIZE)
    with_roles = [(u, role_of(u)) for u in rows]
    text = with_notice(notice, users_text(t, with_roles, page, total))
    markup = users_keyboard(t, [(u.telegram_id, u, r) for u, r in with_roles], page)
    return text, markup


def card(
    t: Translator, target: User, settings: Settings, page: int, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    is_config_admin = target.telegram_id in settings.admin_ids
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
    t: Translator, target: User, settings: Settings, page: int, role: Role
) -> tuple[str, InlineKeyboardMarkup]:
    """The user's card under "<name> is now <role>"."""
    changed = t(
        "access-user-role-changed", name=user_display_name(target), role=role_name(t, role.value)
    )
    return card(t, target, settings, page, notice=changed)


async def users_command(
    message: Message, t: Translator, session: AsyncSession, state: FSMContext
) -> None:
    await show_list_page(message, users_page, 0, t=t, session=session, state=state)


async def users_paged(
    query: CallbackQuery,
    callback_data: UsersCb,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await show_list_page(query, users_page, callback_data.page, t=t, session=session, state=state)


async def _target(
    query: CallbackQuery,
    callback_data: UsersCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    *,
    changing: bool,
) -> User | None:
    """The user under the button, or None after a short alert (gone, self, config admin)."""
    target = await UserRepository(session).get(callback_data.user_id)
    if target is None:
        await query.answer(t("access-user-gone"), show_alert=True)
        return None
    if changing and target.telegram_id == user.telegram_id:
        await query.answer(t("access-user-self"), show_alert=True)
        return None
    if changing and target.telegram_id in settings.admin_ids:
        await query.answer(t("access-user-config-admin"), show_alert=True)
        return None
    return target


async def user_open(
    query: CallbackQuery,
    callback_data: UsersCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    state: FSMContext,
) -> None:
    target = await _target(query, callback_data, user, t, session, settings, changing=False)
    if target is None:
        return
    await query.answer()
    await clear_state(session, state)
    await show(query, *card(t, target, settings, callback_data.page))


async def user_to_coordinator(
    query: CallbackQuery,
    callback_data: UsersCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    i18n: I18n | None = None,
) -> None:
    target = await _target(query, callback_data, user, t, session, settings, changing=True)
    if target is None:
        return
    await query.answer()
    await _set_role(session, bot, i18n, user, target, Role.COORDINATOR, None)
    await show(query, *changed_card(t, target, settings, callback_data.page, Role.COORDINATOR))


async def user_to_doctor(
    query: CallbackQuery,
    callback_data: UsersCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    i18n: I18n | None = None,
) -> None:
    target = await _target(query, callback_data, user, t, session, settings, changing=True)
    if target is None:
        return
    await query.answer()
    if callback_data.doctor_id <= 0:
        doctors, _ = await DoctorDirectoryRepository(session).list_page(limit=8)
        await enter_state(
            session,
            state,
            AccessStates.user_doctor_id,
            user_pk=target.telegram_id,
            page=callback_data.page,
        )
        await show(
            query,
            t("access-user-ask-doctor", name=user_display_name(target)),
            doctor_pick_keyboard(t, doctors, target.telegram_id, callback_data.page),
        )
        return
    await clear_state(session, state)
    await _set_role(session, bot, i18n, user, target, Role.DOCTOR, callback_data.doctor_id)
    await show(query, *changed_card(t, target, settings, callback_data.page, Role.DOCTOR))


async def user_doctor_id_typed(
    message: Message,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    i18n: I18n | None = None,
) -> None:
    doctor_id = parse_doctor_id(message.text or "")
    if doctor_id is None:
        await message.answer(t("access-doctor-bad-id"))
        return
    data = await state.get_data()
    await clear_state(session, state)
    target = await UserRepository(session).get(int(data.get("user_pk", 0)))
    if target is None or target.telegram_id in settings.admin_ids:
        await message.answer(t("access-user-gone"))
        return
    await _set_role(session, bot, i18n, user, target, Role.DOCTOR, doctor_id)
    await show(message, *changed_card(t, target, settings, int(data.get("page", 0)), Role.DOCTOR))


async def user_revoke_ask(
    query: CallbackQuery,
    callback_data: UsersCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
) -> None:
    target = await _target(query, callback_data, user, t, session, settings, changing=True)
    if target is None:
        return
    await query.answer()
    await show(
        query,
        t("access-user-revoke-ask", name=user_display_name(target)),
        revoke_confirm_keyboard(t, target.telegram_id, callback_data.page),
    )


async def user_revoke(
    query: CallbackQuery,
    callback_data: UsersCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    i18n: I18n | None = None,
) -> None:
    target = await _target(query, callback_data, user, t, session, settings, changing=True)
    if target is None:
        return
    await query.answer()
    name = user_display_name(target)
    target_id = target.telegram_id
    await UserRepository(session).delete(target_id)
    await audit(session, user.telegram_id, "user_revoked", f"user:{target_id}")
    log.info("user_revoked admin_id=%s user_id=%s", user.telegram_id, target_id)
    await session.commit()
    await refresh_command_menu(bot, i18n, telegram_id=target_id, role=None, lang=None)
    revoked = t("access-user-revoked", name=name)
    await show(query, *await users_page(session, t, callback_data.page, notice=revoked))


async def _set_role(
    session: AsyncSession,
    bot: Bot,
    i18n: I18n | None,
    admin: User,
    target: User,
    role: Role,
    doctor_id: int | None,
) -> None:
    await UserRepository(session).set_role(target.telegram_id, role, doctor_id)
    await session.refresh(target)
    target_desc = f"user:{target.telegram_id} role:{role.value}"
    if doctor_id:
        target_desc += f" doctor:{doctor_id}"
    await audit(session, admin.telegram_id, "user_role_changed", target_desc)
    log.info(
        "user_role_changed admin_id=%s user_id=%s role=%s",
        admin.telegram_id,
        target.telegram_id,
        role.value,
    )
    await session.commit()
    await refresh_command_menu(
        bot,
        i18n,
        telegram_id=target.telegram_id,
        role=role_of(target),
        lang=language_of(target),
    )


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.users")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(users_command, Command("users"), flags=ADMIN_FLAGS)
    presses = (
        (users_paged, UsersAction.PAGE),
        (user_open, UsersAction.OPEN),
        (user_to_coordinator, UsersAction.TO_COORDINATOR),
        (user_to_doctor, UsersAction.TO_DOCTOR),
        (user_revoke_ask, UsersAction.REVOKE),
        (user_revoke, UsersAction.REVOKE_OK),
    )
    for on_press, action in presses:
        router.callback_query.register(
            on_press, UsersCb.filter(F.action == action), flags=ADMIN_FLAGS
        )
    router.message.register(
        user_doctor_id_typed,
        StateFilter(AccessStates.user_doctor_id),
        *TYPED_ANSWER,
        flags=ADMIN_FLAGS,
    )
    return router
