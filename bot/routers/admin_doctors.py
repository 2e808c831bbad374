"""/doctors: the doctor directory coordinators pick from — add, rename, remove, sync names.

Parse → ``bot.services.doctors_directory.DoctorsDirectory`` (which checks
``MANAGE_DOCTORS`` against the presser's role as stored now; a refusal is answered by the
errors router) → render.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import PartnerApiError, RouteUnavailable
from bot.callback_data import DoctorsAction, DoctorsCb
from bot.i18n import Translator
from bot.keyboards.access import (
    cancel_keyboard,
    doctor_card_keyboard,
    doctor_remove_keyboard,
    doctors_keyboard,
)
from bot.rendering.access import (
    DOCTORS_PAGE_SIZE,
    Page,
    clean_doctor_name,
    doctors_text,
    parse_doctor_id,
)
from bot.rendering.partner_errors import partner_error_text
from bot.routers.start import (
    TYPED_ANSWER,
    clear_state,
    enter_state,
    show,
    with_notice,
)
from bot.services.doctors_directory import Added, DoctorsDirectory
from bot.settings import Settings
from bot.states import AccessStates

# Every state in which an admin is typing something for the access screens.
_ADMIN_TYPING = StateFilter(
    AccessStates.invite_doctor_id,
    AccessStates.user_doctor_id,
    AccessStates.doctor_add_id,
    AccessStates.doctor_add_name,
    AccessStates.doctor_rename,
)

log = logging.getLogger(__name__)


def directory(data: dict[str, Any]) -> DoctorsDirectory:
    settings: Settings = data["settings"]
    return DoctorsDirectory(data["session"], settings.admin_ids, data.get("api"))


async def doctors_page(
    doctors: DoctorsDirectory, me: int, t: Translator, number: int, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    listing = await doctors.page(me, number, DOCTORS_PAGE_SIZE)
    page = Page(listing.number, listing.pages)
    rows = list(listing.rows)
    text = doctors_text(t, rows, page, listing.total)
    return with_notice(notice, text), doctors_keyboard(t, rows, page)


async def _typed_name(
    message: Message, t: Translator, session: AsyncSession, state: FSMContext
) -> tuple[str, int, int] | None:
    """A doctor name typed at a prompt → (name, the prompt's doctor id, its list page), the
    prompt left; None (the prompt kept) when the name does not fit."""
    name = clean_doctor_name(message.text or "")
    if name is None:
        await message.answer(t("access-doctor-bad-name"), reply_markup=cancel_keyboard(t))
        return None
    data = await state.get_data()
    await clear_state(session, state)
    return name, int(data.get("doctor_id", 0)), int(data.get("page", 0))


async def doctors_command(message: Message, t: Translator, **data: Any) -> None:
    assert message.from_user is not None
    screen = await doctors_page(directory(data), message.from_user.id, t, 0)
    await clear_state(data["session"], data["state"])
    await show(message, *screen)


async def doctors_paged(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, **data: Any
) -> None:
    screen = await doctors_page(directory(data), query.from_user.id, t, callback_data.page)
    await query.answer()
    await clear_state(data["session"], data["state"])
    await show(query, *screen)


async def typing_cancelled_button(
    query: CallbackQuery, t: Translator, state: FSMContext, session: AsyncSession
) -> None:
    # No check: it only leaves the presser's own prompt (an admin's, or nothing at all).
    await query.answer()
    await clear_state(session, state)
    await show(query, t("access-cancelled"))


async def typing_cancelled(
    message: Message, t: Translator, state: FSMContext, session: AsyncSession
) -> None:
    await clear_state(session, state)
    await message.answer(t("access-cancelled"))


async def doctor_open(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, **data: Any
) -> None:
    doctor = await directory(data).get(query.from_user.id, callback_data.doctor_id)
    if doctor is None:
        await query.answer(t("access-doctor-gone"), show_alert=True)
        return
    await query.answer()
    await clear_state(data["session"], data["state"])
    name = html.escape(doctor.display_name)
    if callback_data.action == DoctorsAction.REMOVE:
        await show(
            query,
            t("access-doctor-remove-ask", name=name, doctor_id=doctor.doctor_id),
            doctor_remove_keyboard(t, doctor.doctor_id, callback_data.page),
        )
        return
    await show(
        query,
        t("access-doctor-card", name=name, doctor_id=doctor.doctor_id),
        doctor_card_keyboard(t, doctor.doctor_id, callback_data.page),
    )


async def doctor_remove(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, **data: Any
) -> None:
    doctors = directory(data)
    me = query.from_user.id
    removed = await doctors.remove(me, callback_data.doctor_id)
    if removed is None:
        await query.answer(t("access-doctor-gone"), show_alert=True)
        return
    await query.answer()
    done = t(
        "access-doctor-removed",
        name=html.escape(removed.display_name),
        doctor_id=callback_data.doctor_id,
    )
    await show(query, *await doctors_page(doctors, me, t, callback_data.page, notice=done))


async def doctor_rename_ask(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, **data: Any
) -> None:
    doctor = await directory(data).get(query.from_user.id, callback_data.doctor_id)
    if doctor is None:
        await query.answer(t("access-doctor-gone"), show_alert=True)
        return
    await query.answer()
    await enter_state(
        data["session"],
        data["state"],
        AccessStates.doctor_rename,
        doctor_id=doctor.doctor_id,
        page=callback_data.page,
    )
    await show(
        query,
        t(
            "access-doctor-ask-rename",
            name=html.escape(doctor.display_name),
            doctor_id=doctor.doctor_id,
        ),
        cancel_keyboard(t, callback_data.page),
    )


async def doctor_rename_typed(message: Message, t: Translator, **data: Any) -> None:
    assert message.from_user is not None
    doctors, me = directory(data), message.from_user.id
    await doctors.check(me)  # demoted since the prompt: told that, not the name's format
    typed = await _typed_name(message, t, data["session"], data["state"])
    if typed is None:
        return
    name, doctor_id, page = typed
    if not await doctors.rename(me, doctor_id, name):
        await message.answer(t("access-doctor-gone"))
        return
    done = t("access-doctor-renamed", name=html.escape(name), doctor_id=doctor_id)
    await show(message, *await doctors_page(doctors, me, t, page, notice=done))


async def doctor_add_ask(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, **data: Any
) -> None:
    await directory(data).check(query.from_user.id)
    await query.answer()
    await enter_state(
        data["session"], data["state"], AccessStates.doctor_add_id, page=callback_data.page
    )
    await show(query, t("access-doctor-ask-id"), cancel_keyboard(t, callback_data.page))


async def doctor_add_id_typed(message: Message, t: Translator, **data: Any) -> None:
    assert message.from_user is not None
    doctors, me = directory(data), message.from_user.id
    session: AsyncSession = data["session"]
    state: FSMContext = data["state"]
    await doctors.check(me)
    doctor_id = parse_doctor_id(message.text or "")
    if doctor_id is None:
        await message.answer(t("access-doctor-bad-id"), reply_markup=cancel_keyboard(t))
        return
    page = int((await state.get_data()).get("page", 0))
    result = await doctors.add(me, doctor_id)
    if result.outcome is Added.EXISTS:
        await clear_state(session, state)
        name = html.escape(result.name or "")
        await message.answer(t("access-doctor-exists", doctor_id=doctor_id, name=name))
    elif result.outcome is Added.NEEDS_NAME:
        await enter_state(session, state, AccessStates.doctor_add_name, doctor_id=doctor_id)
        await message.answer(
            t("access-doctor-ask-name", doctor_id=doctor_id), reply_markup=cancel_keyboard(t)
        )
    elif result.outcome is Added.NOT_FOUND:
        await message.answer(
            t("access-doctor-not-found", doctor_id=doctor_id), reply_markup=cancel_keyboard(t)
        )
    elif result.outcome is Added.API_ERROR:
        assert result.error is not None
        await message.answer(
            t("access-doctor-api-error", error=html.escape(partner_error_text(t, result.error))),
            reply_markup=cancel_keyboard(t),
        )
    else:
        await clear_state(session, state)
        done = t("access-doctor-added", name=html.escape(result.name or ""), doctor_id=doctor_id)
        await show(message, *await doctors_page(doctors, me, t, page, notice=done))


async def doctor_add_name_typed(message: Message, t: Translator, **data: Any) -> None:
    assert message.from_user is not None
    doctors, me = directory(data), message.from_user.id
    await doctors.check(me)
    typed = await _typed_name(message, t, data["session"], data["state"])
    if typed is None:
        return
    name, doctor_id, page = typed
    if doctor_id <= 0:
        await message.answer(t("access-stale-button"))
        return
    await doctors.add_named(me, doctor_id, name)
    done = t("access-doctor-added", name=html.escape(name), doctor_id=doctor_id)
    await show(message, *await doctors_page(doctors, me, t, page, notice=done))


async def doctors_sync(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, **data: Any
) -> None:
    doctors, me = directory(data), query.from_user.id
    await doctors.check(me)  # a refusal is the press's alert, so before answering
    await query.answer()  # before the API round trips
    try:
        result = await doctors.sync(me)
    except RouteUnavailable:
        await show(query, t("access-doctors-sync-unavailable"))
        return
    except PartnerApiError as exc:
        log.warning("doctor_sync_failed error=%s", type(exc).__name__)
        error = html.escape(partner_error_text(t, exc))
        await show(query, t("access-doctor-api-error", error=error))
        return
    done = t("access-doctors-synced", updated=result.updated, missing=result.missing)
    await show(query, *await doctors_page(doctors, me, t, callback_data.page, notice=done))


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.doctors")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(doctors_command, Command("doctors"))
    router.message.register(typing_cancelled, _ADMIN_TYPING, Command("cancel"))
    presses = (
        (doctors_paged, DoctorsCb.filter(F.action == DoctorsAction.PAGE)),
        (typing_cancelled_button, DoctorsCb.filter(F.action == DoctorsAction.CANCEL)),
        (doctor_open, DoctorsCb.filter(F.action.in_({DoctorsAction.OPEN, DoctorsAction.REMOVE}))),
        (doctor_remove, DoctorsCb.filter(F.action == DoctorsAction.REMOVE_OK)),
        (doctor_rename_ask, DoctorsCb.filter(F.action == DoctorsAction.RENAME)),
        (doctor_add_ask, DoctorsCb.filter(F.action == DoctorsAction.ADD)),
        (doctors_sync, DoctorsCb.filter(F.action == DoctorsAction.SYNC)),
    )
    for on_press, press_filter in presses:
        router.callback_query.register(on_press, press_filter)
    answers = (
        (doctor_rename_typed, AccessStates.doctor_rename),
        (doctor_add_id_typed, AccessStates.doctor_add_id),
        (doctor_add_name_typed, AccessStates.doctor_add_name),
    )
    for on_answer, prompt in answers:
        router.message.register(on_answer, StateFilter(prompt), *TYPED_ANSWER)
    return router
