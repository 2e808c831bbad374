"""/doctors: the doctor directory coordinators pick from — add, rename, remove, sync names.

A doctor is added by id. When the deployment offers the partner API's doctor routes the name
comes from ``get_doctor``; when it does not (``RouteUnavailable``) the admin types the name.
"""

from __future__ import annotations

import html
import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from api_client import PartnerApiClient
from api_client.errors import NotFound, PartnerApiError, RouteUnavailable
from api_client.models import Doctor
from bot.i18n import Translator
from bot.keyboards.access import (
    DoctorsAction,
    DoctorsCb,
    cancel_keyboard,
    doctor_card_keyboard,
    doctor_remove_keyboard,
    doctors_keyboard,
)
from bot.rendering.access import (
    DOCTORS_PAGE_SIZE,
    clean_doctor_name,
    doctors_text,
    page_of,
    parse_doctor_id,
)
from bot.rendering.partner_errors import partner_error_text
from bot.routers.start import (
    ADMIN_FLAGS,
    TYPED_ANSWER,
    audit,
    clear_state,
    enter_state,
    show,
    show_list_page,
    with_notice,
)
from bot.states import AccessStates
from storage.models import DirectoryDoctor, User
from storage.repositories.doctors import DoctorDirectoryRepository

log = logging.getLogger(__name__)


# Every state in which an admin is typing something for the access screens.
_ADMIN_TYPING = StateFilter(
    AccessStates.invite_doctor_id,
    AccessStates.user_doctor_id,
    AccessStates.doctor_add_id,
    AccessStates.doctor_add_name,
    AccessStates.doctor_rename,
)


async def doctors_page(
    session: AsyncSession, t: Translator, number: int, *, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    repo = DoctorDirectoryRepository(session)
    _, total = await repo.list_page(limit=1)
    page = page_of(total, number, DOCTORS_PAGE_SIZE)
    rows, total = await repo.list_page(
        limit=DOCTORS_PAGE_SIZE, offset=page.number * DOCTORS_PAGE_SIZE
    )
    return with_notice(notice, doctors_text(t, rows, page, total)), doctors_keyboard(t, rows, page)


def _specialties(doctor: Doctor) -> str:
    return ", ".join(s.name for s in doctor.specialties if s.name)[:500]


def _callback_available(doctor: Doctor) -> bool | None:
    ctype = doctor.callback_type
    if ctype is None:
        return False
    available = getattr(ctype, "is_available", None)
    return bool(available) if available is not None else True


async def _store_from_api(
    repo: DoctorDirectoryRepository, doctor_id: int, name: str, doctor: Doctor
) -> None:
    """Add or refresh a directory entry from the partner API's doctor."""
    await repo.upsert(
        doctor_id,
        name[:256],
        specialties=_specialties(doctor),
        callback_available=_callback_available(doctor),
    )


async def _pressed_doctor(
    query: CallbackQuery, callback_data: DoctorsCb, t: Translator, repo: DoctorDirectoryRepository
) -> DirectoryDoctor | None:
    """The directory entry under the button, or None after a short alert (removed since)."""
    doctor = await repo.get(callback_data.doctor_id)
    if doctor is None:
        await query.answer(t("access-doctor-gone"), show_alert=True)
        return None
    await query.answer()
    return doctor


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


async def doctors_command(
    message: Message, t: Translator, session: AsyncSession, state: FSMContext
) -> None:
    await show_list_page(message, doctors_page, 0, t=t, session=session, state=state)


async def doctors_paged(
    query: CallbackQuery,
    callback_data: DoctorsCb,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await show_list_page(query, doctors_page, callback_data.page, t=t, session=session, state=state)


async def typing_cancelled_button(
    query: CallbackQuery, t: Translator, state: FSMContext, session: AsyncSession
) -> None:
    await query.answer()
    await clear_state(session, state)
    await show(query, t("access-cancelled"))


async def typing_cancelled(
    message: Message, t: Translator, state: FSMContext, session: AsyncSession
) -> None:
    await clear_state(session, state)
    await message.answer(t("access-cancelled"))


async def doctor_open(
    query: CallbackQuery,
    callback_data: DoctorsCb,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    doctor = await _pressed_doctor(query, callback_data, t, DoctorDirectoryRepository(session))
    if doctor is None:
        return
    await clear_state(session, state)
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
    query: CallbackQuery,
    callback_data: DoctorsCb,
    user: User,
    t: Translator,
    session: AsyncSession,
) -> None:
    repo = DoctorDirectoryRepository(session)
    doctor = await _pressed_doctor(query, callback_data, t, repo)
    if doctor is None:
        return
    name = html.escape(doctor.display_name)
    await repo.remove(doctor.doctor_id)
    await audit(session, user.telegram_id, "doctor_removed", f"doctor:{callback_data.doctor_id}")
    done = t("access-doctor-removed", name=name, doctor_id=callback_data.doctor_id)
    await show(query, *await doctors_page(session, t, callback_data.page, notice=done))


async def doctor_rename_ask(
    query: CallbackQuery,
    callback_data: DoctorsCb,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    doctor = await _pressed_doctor(query, callback_data, t, DoctorDirectoryRepository(session))
    if doctor is None:
        return
    await enter_state(
        session,
        state,
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


async def doctor_rename_typed(
    message: Message, user: User, t: Translator, session: AsyncSession, state: FSMContext
) -> None:
    typed = await _typed_name(message, t, session, state)
    if typed is None:
        return
    name, doctor_id, page = typed
    if not await DoctorDirectoryRepository(session).rename(doctor_id, name):
        await message.answer(t("access-doctor-gone"))
        return
    await audit(session, user.telegram_id, "doctor_renamed", f"doctor:{doctor_id}")
    done = t("access-doctor-renamed", name=html.escape(name), doctor_id=doctor_id)
    await show(message, *await doctors_page(session, t, page, notice=done))


async def doctor_add_ask(
    query: CallbackQuery,
    callback_data: DoctorsCb,
    t: Translator,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    await query.answer()
    await enter_state(session, state, AccessStates.doctor_add_id, page=callback_data.page)
    await show(query, t("access-doctor-ask-id"), cancel_keyboard(t, callback_data.page))


async def doctor_add_id_typed(
    message: Message,
    user: User,
    t: Translator,
    session: AsyncSession,
    state: FSMContext,
    api: PartnerApiClient,
) -> None:
    doctor_id = parse_doctor_id(message.text or "")
    if doctor_id is None:
        await message.answer(t("access-doctor-bad-id"), reply_markup=cancel_keyboard(t))
        return
    repo = DoctorDirectoryRepository(session)
    existing = await repo.get(doctor_id)
    if existing is not None:
        await clear_state(session, state)
        await message.answer(
            t("access-doctor-exists", doctor_id=doctor_id, name=html.escape(existing.display_name))
        )
        return
    try:
        doctor = await api.get_doctor(doctor_id)
    except RouteUnavailable:
        # The deployment has no doctor lookup: the admin names the doctor.
        await enter_state(session, state, AccessStates.doctor_add_name, doctor_id=doctor_id)
        await message.answer(
            t("access-doctor-ask-name", doctor_id=doctor_id), reply_markup=cancel_keyboard(t)
        )
        return
    except NotFound:
        await message.answer(
            t("access-doctor-not-found", doctor_id=doctor_id), reply_markup=cancel_keyboard(t)
        )
        return
    except PartnerApiError as exc:
        log.warning("doctor_lookup_failed doctor_id=%s error=%s", doctor_id, type(exc).__name__)
        await message.answer(
            t("access-doctor-api-error", error=html.escape(partner_error_text(t, exc))),
            reply_markup=cancel_keyboard(t),
        )
        return
    name = doctor.full_name or str(doctor_id)
    data = await state.get_data()
    await clear_state(session, state)
    await _store_from_api(repo, doctor_id, name, doctor)
    await audit(session, user.telegram_id, "doctor_added", f"doctor:{doctor_id}")
    done = t("access-doctor-added", name=html.escape(name), doctor_id=doctor_id)
    await show(message, *await doctors_page(session, t, int(data.get("page", 0)), notice=done))


async def doctor_add_name_typed(
    message: Message, user: User, t: Translator, session: AsyncSession, state: FSMContext
) -> None:
    typed = await _typed_name(message, t, session, state)
    if typed is None:
        return
    name, doctor_id, page = typed
    if doctor_id <= 0:
        await message.answer(t("access-stale-button"))
        return
    await DoctorDirectoryRepository(session).upsert(doctor_id, name)
    await audit(session, user.telegram_id, "doctor_added", f"doctor:{doctor_id}")
    done = t("access-doctor-added", name=html.escape(name), doctor_id=doctor_id)
    await show(message, *await doctors_page(session, t, page, notice=done))


async def doctors_sync(
    query: CallbackQuery,
    callback_data: DoctorsCb,
    user: User,
    t: Translator,
    session: AsyncSession,
    api: PartnerApiClient,
) -> None:
    await query.answer()  # before the API round trips
    repo = DoctorDirectoryRepository(session)
    updated = missing = 0
    try:
        for doctor_id in await repo.all_ids():
            try:
                doctor = await api.get_doctor(doctor_id)
            except RouteUnavailable:
                raise
            except NotFound:
                missing += 1
                continue
            name = doctor.full_name
            current = await repo.get(doctor_id)
            if not name or current is None:
                continue
            if current.display_name != name:
                updated += 1
            await _store_from_api(repo, doctor_id, name, doctor)
    except RouteUnavailable:
        await show(query, t("access-doctors-sync-unavailable"))
        return
    except PartnerApiError as exc:
        log.warning("doctor_sync_failed error=%s", type(exc).__name__)
        await show(
            query, t("access-doctor-api-error", error=html.escape(partner_error_text(t, exc)))
        )
        return
    await audit(session, user.telegram_id, "doctors_synced", f"updated:{updated} missing:{missing}")
    done = t("access-doctors-synced", updated=updated, missing=missing)
    await show(query, *await doctors_page(session, t, callback_data.page, notice=done))


def setup() -> Router:
    """A fresh router per dispatcher (tests build several in one process)."""
    router = Router(name="access.doctors")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(doctors_command, Command("doctors"), flags=ADMIN_FLAGS)
    router.message.register(typing_cancelled, _ADMIN_TYPING, Command("cancel"), flags=ADMIN_FLAGS)
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
        router.callback_query.register(on_press, press_filter, flags=ADMIN_FLAGS)
    answers = (
        (doctor_rename_typed, AccessStates.doctor_rename),
        (doctor_add_id_typed, AccessStates.doctor_add_id),
        (doctor_add_name_typed, AccessStates.doctor_add_name),
    )
    for on_answer, prompt in answers:
        router.message.register(on_answer, StateFilter(prompt), *TYPED_ANSWER, flags=ADMIN_FLAGS)
    return router
