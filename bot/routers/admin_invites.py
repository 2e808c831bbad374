"""/invite coordinator, /invite doctor <doctor_id> → a one-time deep link.

The code is ``secrets.token_urlsafe``; only its sha256 is stored (InviteRepository), so the
database never holds a usable link. The link is shown once, to the admin who asked.
"""

from __future__ import annotations

import html
import logging
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.deep_linking import create_start_link
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.keyboards.access import InvitePick, cancel_keyboard, invite_keyboard
from bot.rendering.access import parse_doctor_id
from bot.rendering.time import format_local
from bot.routers.start import ADMIN_FLAGS, TYPED_ANSWER, audit, clear_state, enter_state, show
from bot.settings import Settings
from bot.states import AccessStates
from storage.enums import Role
from storage.models import User
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.invites import InviteRepository

log = logging.getLogger(__name__)


CODE_BYTES = 24  # 32 characters: well under Telegram's 64 for a start parameter


async def create_invite_text(
    *,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    admin: User,
    t: Translator,
    tz: ZoneInfo,
    role: Role,
    doctor_id: int | None = None,
) -> str:
    code = secrets.token_urlsafe(CODE_BYTES)
    invite = await InviteRepository(session).create(
        code,
        role,
        created_by=admin.telegram_id,
        ttl=timedelta(hours=settings.invite_ttl_hours),
        doctor_id=doctor_id,
    )
    await audit(
        session,
        admin.telegram_id,
        "invite_created",
        f"invite:{invite.id} role:{role.value}" + (f" doctor:{doctor_id}" if doctor_id else ""),
    )
    log.info("invite_created admin_id=%s invite_id=%s role=%s", admin.telegram_id, invite.id, role)
    link = await create_start_link(bot, code)
    until = format_local(invite.expires_at, tz, t.lang, with_date=True)
    if role is Role.DOCTOR:
        doctor = await DoctorDirectoryRepository(session).get(doctor_id or 0)
        name = f" — {html.escape(doctor.display_name)}" if doctor else ""
        return t(
            "access-invite-created-doctor",
            doctor_id=doctor_id,
            doctor_name=name,
            until=until,
            link=link,
        )
    return t("access-invite-created-coordinator", until=until, link=link)


async def invite_command(
    message: Message,
    command: CommandObject,
    user: User,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
) -> None:
    args = (command.args or "").split()
    kind = args[0].lower() if args else ""
    if not args:
        doctors, _ = await DoctorDirectoryRepository(session).list_page(limit=8)
        await message.answer(t("access-invite-choose"), reply_markup=invite_keyboard(t, doctors))
        return
    if kind in ("coordinator", "координатор") and len(args) == 1:
        role, doctor_id = Role.COORDINATOR, None
    elif kind in ("doctor", "врач") and len(args) == 2:
        doctor_id = parse_doctor_id(args[1])
        if doctor_id is None:
            await message.answer(t("access-invite-bad-doctor-id"))
            return
        role = Role.DOCTOR
    elif kind in ("doctor", "врач") and len(args) == 1:
        await enter_state(session, state, AccessStates.invite_doctor_id)
        await message.answer(t("access-invite-ask-doctor-id"), reply_markup=cancel_keyboard(t))
        return
    else:
        await message.answer(t("access-invite-usage"))
        return
    await clear_state(session, state)
    text = await create_invite_text(
        bot=bot,
        session=session,
        settings=settings,
        admin=user,
        t=t,
        tz=tz,
        role=role,
        doctor_id=doctor_id,
    )
    await message.answer(text)


async def invite_picked(
    query: CallbackQuery,
    callback_data: InvitePick,
    user: User,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
) -> None:
    if callback_data.role not in ("coordinator", "doctor"):
        await query.answer(t("access-stale-button"), show_alert=True)
        return
    await query.answer()
    if callback_data.role == "doctor" and callback_data.doctor_id <= 0:
        await enter_state(session, state, AccessStates.invite_doctor_id)
        await show(query, t("access-invite-ask-doctor-id"), cancel_keyboard(t))
        return
    role = Role(callback_data.role)
    text = await create_invite_text(
        bot=bot,
        session=session,
        settings=settings,
        admin=user,
        t=t,
        tz=tz,
        role=role,
        doctor_id=callback_data.doctor_id if role is Role.DOCTOR else None,
    )
    await show(query, text)


async def invite_doctor_id_typed(
    message: Message,
    user: User,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
) -> None:
    doctor_id = parse_doctor_id(message.text or "")
    if doctor_id is None:
        await message.answer(t("access-invite-bad-doctor-id"), reply_markup=cancel_keyboard(t))
        return
    await clear_state(session, state)
    text = await create_invite_text(
        bot=bot,
        session=session,
        settings=settings,
        admin=user,
        t=t,
        tz=tz,
        role=Role.DOCTOR,
        doctor_id=doctor_id,
    )
    await message.answer(text)


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.invites")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(invite_command, Command("invite"), flags=ADMIN_FLAGS)
    router.callback_query.register(invite_picked, InvitePick.filter(), flags=ADMIN_FLAGS)
    router.message.register(
        invite_doctor_id_typed,
        StateFilter(AccessStates.invite_doctor_id),
        *TYPED_ANSWER,
        flags=ADMIN_FLAGS,
    )
    return router
