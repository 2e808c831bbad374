"""The buttons of the status messages: "Conclusion" and "Start again".

The conclusion is never pushed: the button fetches the consultation (`get_callback`) at the
moment of the press and shows `medicalReport.text` — only in a private chat, and only to
the consultation's coordinator, a doctor account linked to its doctor, or an admin. A long
conclusion is sent in several messages, cut on paragraph or line boundaries.

"Start again" (on a consultation that did not take place, or a start that failed) opens the
/start_callback wizard prefilled with the doctor, phone, name and duration.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, StartMode
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import PartnerApiError
from bot.i18n import Translator
from bot.notifications.callback_data import ConclusionCallback, StartAgainCallback
from bot.notifications.messages import short_id, split_message
from bot.rendering.partner_errors import partner_error_text
from bot.settings import Settings
from bot.states import StartCallbackSG
from storage.enums import Role
from storage.models import Consultation, User
from storage.repositories import ConsultationRepository

log = logging.getLogger(__name__)

# Room for the demo mark the sandbox mode appends to every text.
CONCLUSION_PART_LIMIT = 4096 - 128


def may_read(user: User | None, consultation: Consultation, admin_ids: frozenset[int]) -> bool:
    """Coordinator who started it, a doctor linked to its doctor id, or an admin."""
    if user is None or not user.is_active:
        return False
    if user.role == Role.ADMIN or user.telegram_id in admin_ids:
        return True
    if consultation.coordinator_id is not None and consultation.coordinator_id == user.telegram_id:
        return True
    return (
        user.role == Role.DOCTOR
        and user.doctor_id is not None
        and user.doctor_id == consultation.doctor_id
    )


def may_restart(user: User | None, consultation: Consultation, admin_ids: frozenset[int]) -> bool:
    if user is None or not user.is_active:
        return False
    if user.role == Role.ADMIN or user.telegram_id in admin_ids:
        return True
    return user.role == Role.COORDINATOR and consultation.coordinator_id == user.telegram_id


def _is_private(query: CallbackQuery) -> bool:
    message = query.message
    return message is not None and message.chat.type == ChatType.PRIVATE


async def show_conclusion(
    query: CallbackQuery,
    callback_data: ConclusionCallback,
    session: AsyncSession,
    user: User | None,
    settings: Settings,
    api: Any,
    t: Translator,
) -> None:
    if not _is_private(query):
        await query.answer(t("notify-conclusion-private"), show_alert=True)
        return
    consultation = await ConsultationRepository(session).get(callback_data.cid)
    if consultation is None or not may_read(user, consultation, settings.admin_ids):
        log.info(
            "conclusion_refused consultation=%s user_id=%s",
            callback_data.cid,
            query.from_user.id,
        )
        await query.answer(t("notify-conclusion-forbidden"), show_alert=True)
        return
    sid = short_id(consultation.partner_id, consultation.id)
    if consultation.partner_id is None:
        await query.answer(t("notify-conclusion-empty", short_id=sid), show_alert=True)
        return
    # Answered before the partner API is asked (it may be slow): the button stops spinning
    # at once, and what the look finds — or why it failed — comes as a message.
    await query.answer()
    assert query.message is not None
    chat_id = query.message.chat.id
    bot = query.bot
    assert bot is not None
    try:
        callback = await api.get_callback(consultation.partner_id)
    except PartnerApiError as exc:
        log.info(
            "conclusion_unavailable consultation=%s error=%s", consultation.id, type(exc).__name__
        )
        reason = partner_error_text(t, exc)
        await bot.send_message(chat_id, t("notify-conclusion-unavailable", reason=reason))
        return
    report = callback.medical_report
    text = (report.text or "").strip() if report is not None else ""
    if not text:
        await bot.send_message(chat_id, t("notify-conclusion-empty", short_id=sid))
        return
    doctor = callback.doctor_full_name or consultation.doctor_name or "—"
    await bot.send_message(
        chat_id, t("notify-conclusion-header", doctor=escape(doctor), short_id=sid)
    )
    # The doctor's text is sent as plain text: no escaping to inflate it past the limit.
    for part in split_message(text, CONCLUSION_PART_LIMIT):
        await bot.send_message(chat_id, part, parse_mode=None)
    log.info("conclusion_shown consultation=%s user_id=%s", consultation.id, query.from_user.id)


async def start_again(
    query: CallbackQuery,
    callback_data: StartAgainCallback,
    session: AsyncSession,
    user: User | None,
    settings: Settings,
    t: Translator,
    dialog_manager: DialogManager,
) -> None:
    if not _is_private(query):
        await query.answer(t("notify-conclusion-private"), show_alert=True)
        return
    consultation = await ConsultationRepository(session).get(callback_data.cid)
    if consultation is None or not may_restart(user, consultation, settings.admin_ids):
        await query.answer(t("notify-conclusion-forbidden"), show_alert=True)
        return
    if consultation.doctor_id is None:
        await query.answer(t("notify-again-unavailable"), show_alert=True)
        return
    await query.answer()
    # The wizard's prefill keys (bot/dialogs/start_callback/__init__.py); the start time is
    # asked again on purpose.
    prefill: dict[str, Any] = {"doctor_id": consultation.doctor_id}
    if consultation.doctor_name:
        prefill["doctor_name"] = consultation.doctor_name
    if consultation.patient_phone:
        prefill["phone"] = consultation.patient_phone
    if consultation.patient_name:
        prefill["patient_name"] = consultation.patient_name
    if consultation.duration_min:
        prefill["duration_min"] = consultation.duration_min
    # A new message: the "did not take place" notice stays readable above the wizard.
    await dialog_manager.start(
        StartCallbackSG.start_time,
        data=prefill,
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


def setup() -> Router:
    router = Router(name="conclusion")
    router.callback_query.register(show_conclusion, ConclusionCallback.filter())
    router.callback_query.register(start_again, StartAgainCallback.filter(F.cid > 0))
    return router
