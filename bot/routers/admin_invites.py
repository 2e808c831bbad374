"""/invite coordinator, /invite doctor <doctor_id> → a one-time deep link; /invites → the
open invites, each with a Revoke button (asks first; revoking twice is harmless).

Parse → ``bot.services.invites.Invites`` (which checks, at the moment of the action, that
the presser may invite: a refusal is answered by the errors router) → render. The link is
shown once, to the admin who asked.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import InvitePick, InvitesAction, InvitesCb
from bot.i18n import Translator
from bot.keyboards.access import (
    cancel_keyboard,
    invite_keyboard,
    invite_revoke_keyboard,
    invites_keyboard,
)
from bot.rendering.access import Page, parse_doctor_id
from bot.rendering.invites import INVITES_PAGE_SIZE, invites_text, revoke_question
from bot.rendering.time import format_local
from bot.routers.start import TYPED_ANSWER, clear_state, enter_state, show, with_notice
from bot.services.admin_common import default_clock
from bot.services.invites import CreatedInvite, Invites
from bot.settings import Settings
from bot.states import AccessStates
from storage.enums import Role


def invites(
    session: AsyncSession, settings: Settings, clock: Callable[[], datetime] | None = None
) -> Invites:
    return Invites(
        session,
        settings.admin_ids,
        ttl=timedelta(hours=settings.invite_ttl_hours),
        clock=clock or default_clock,
    )


async def invite_text(bot: Bot, t: Translator, tz: ZoneInfo, created: CreatedInvite) -> str:
    link = await create_start_link(bot, created.code)
    until = format_local(created.expires_at, tz, t.lang, with_date=True)
    if created.role is Role.DOCTOR:
        name = f" — {html.escape(created.doctor_name)}" if created.doctor_name else ""
        return t(
            "access-invite-created-doctor",
            doctor_id=created.doctor_id,
            doctor_name=name,
            until=until,
            link=link,
        )
    return t("access-invite-created-coordinator", until=until, link=link)


async def invite_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    assert message.from_user is not None
    me = message.from_user.id
    service = invites(session, settings, clock)
    args = (command.args or "").split()
    kind = args[0].lower() if args else ""
    if not args:
        doctors = await service.doctor_choices(me)
        await message.answer(t("access-invite-choose"), reply_markup=invite_keyboard(t, doctors))
        return
    if kind in ("coordinator", "координатор") and len(args) == 1:
        role, doctor_id = Role.COORDINATOR, None
    elif kind in ("doctor", "врач") and len(args) == 2:
        doctor_id = parse_doctor_id(args[1])
        if doctor_id is None:
            await service.check(me)  # a non-admin learns that first, not the id's format
            await message.answer(t("access-invite-bad-doctor-id"))
            return
        role = Role.DOCTOR
    elif kind in ("doctor", "врач") and len(args) == 1:
        await service.check(me)
        await enter_state(session, state, AccessStates.invite_doctor_id)
        await message.answer(t("access-invite-ask-doctor-id"), reply_markup=cancel_keyboard(t))
        return
    else:
        await service.check(me)
        await message.answer(t("access-invite-usage"))
        return
    created = await service.create(me, role, doctor_id)
    await clear_state(session, state)
    await message.answer(await invite_text(bot, t, tz, created))


async def invite_picked(
    query: CallbackQuery,
    callback_data: InvitePick,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    service = invites(session, settings, clock)
    me = query.from_user.id
    await service.check(me)  # before any answer: a refusal is the press's alert
    if callback_data.role not in ("coordinator", "doctor"):
        await query.answer(t("access-stale-button"), show_alert=True)
        return
    await query.answer()
    if callback_data.role == "doctor" and callback_data.doctor_id <= 0:
        await enter_state(session, state, AccessStates.invite_doctor_id)
        await show(query, t("access-invite-ask-doctor-id"), cancel_keyboard(t))
        return
    role = Role(callback_data.role)
    created = await service.create(me, role, callback_data.doctor_id)
    await show(query, await invite_text(bot, t, tz, created))


async def invite_doctor_id_typed(
    message: Message,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    assert message.from_user is not None
    doctor_id = parse_doctor_id(message.text or "")
    service = invites(session, settings, clock)
    if doctor_id is None:
        await service.check(message.from_user.id)
        await message.answer(t("access-invite-bad-doctor-id"), reply_markup=cancel_keyboard(t))
        return
    await clear_state(session, state)
    created = await service.create(message.from_user.id, Role.DOCTOR, doctor_id)
    await message.answer(await invite_text(bot, t, tz, created))


# --- /invites: the open invites, each with a Revoke button --------------------------------


async def invites_page(
    service: Invites,
    me: int,
    t: Translator,
    tz: ZoneInfo,
    number: int,
    *,
    notice: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    listing = await service.open_page(me, number, INVITES_PAGE_SIZE)
    page = Page(listing.number, listing.pages)
    text = with_notice(notice, invites_text(t, listing.rows, page, listing.total, tz, t.lang))
    return text, invites_keyboard(t, [invite.id for invite in listing.rows], page)


async def invites_command(
    message: Message,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    assert message.from_user is not None
    service = invites(session, settings, clock)
    screen = await invites_page(service, message.from_user.id, t, tz, 0)
    await clear_state(session, state)
    await message.answer(screen[0], reply_markup=screen[1])


async def invites_pressed(
    query: CallbackQuery,
    callback_data: InvitesCb,
    t: Translator,
    tz: ZoneInfo,
    session: AsyncSession,
    settings: Settings,
    state: FSMContext,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Page, Revoke (asks), Yes (revokes). The policy is asked first, at the moment of the
    press: a stale button of someone who is no admin any more gets its sentence."""
    service = invites(session, settings, clock)
    me, page, invite_id = query.from_user.id, callback_data.page, callback_data.invite_id
    notice: str | None = None
    if callback_data.action is InvitesAction.REVOKE:
        invite = await service.describe(me, invite_id)
        if invite is not None:
            await query.answer()
            await clear_state(session, state)
            question = revoke_question(t, invite, tz, t.lang)
            await show(query, question, invite_revoke_keyboard(t, invite_id, page))
            return
        notice = t("access-invites-gone", invite_id=invite_id)
    elif callback_data.action is InvitesAction.REVOKE_OK:
        revoked = await service.revoke(me, invite_id)
        key = "access-invites-revoked" if revoked else "access-invites-gone"
        notice = t(key, invite_id=invite_id)
    else:
        await service.check(me)
    screen = await invites_page(service, me, t, tz, page, notice=notice)
    await query.answer()
    await clear_state(session, state)
    await show(query, *screen)


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.invites")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(invite_command, Command("invite"))
    router.callback_query.register(invite_picked, InvitePick.filter())
    router.message.register(invites_command, Command("invites"))
    router.callback_query.register(invites_pressed, InvitesCb.filter())
    router.message.register(
        invite_doctor_id_typed, StateFilter(AccessStates.invite_doctor_id), *TYPED_ANSWER
    )
    return router
