"""The buttons of the status messages: "Conclusion" and "Start again".

The conclusion is never pushed: the button fetches the consultation (`get_callback`) at the
moment of the press and shows `medicalReport.text` — only in a private chat, and only to
whom the access policy lets read it (bot/services/access.py: the admins, the coordinator
who started it, a doctor account linked to its doctor — as they are stored now). A long
conclusion is sent in several messages, cut on paragraph or line boundaries.

"Start again" (on a consultation that did not take place, or a start that failed) opens the
/start_callback wizard prefilled with the doctor, phone, name and duration.
"""

from __future__ import annotations

import logging
from html import escape

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, StartMode
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.client import PartnerApiClient
from api_client.errors import PartnerApiError
from bot.callback_data import ConclusionCallback, StartAgainCallback
from bot.i18n import Translator
from bot.notifications.messages import short_id, split_message
from bot.rendering.partner_errors import partner_error_text
from bot.services.access import Action, Actor
from bot.services.consultation_actions import (
    ConclusionOutcome,
    open_consultation,
    prefill,
    read_conclusion,
)
from bot.states import StartCallbackSG

log = logging.getLogger(__name__)

# Room for the demo mark the sandbox mode appends to every text.
CONCLUSION_PART_LIMIT = 4096 - 128


def _is_private(query: CallbackQuery) -> bool:
    message = query.message
    return message is not None and message.chat.type == ChatType.PRIVATE


async def show_conclusion(
    query: CallbackQuery,
    callback_data: ConclusionCallback,
    session: AsyncSession,
    actor: Actor,
    api: PartnerApiClient,
    t: Translator,
) -> None:
    if not _is_private(query):
        await query.answer(t("notify-conclusion-private"), show_alert=True)
        return
    consultation = await open_consultation(
        session, actor, callback_data.cid, Action.READ_CONCLUSION
    )
    sid = short_id(consultation.partner_id, consultation.id)
    # Answered before the partner API is asked (it may be slow): the button stops spinning
    # at once, and what the look finds — or why it failed — comes as a message.
    await query.answer()
    assert query.message is not None
    chat_id = query.message.chat.id
    bot = query.bot
    assert bot is not None
    try:
        conclusion = await read_conclusion(api, actor, consultation)
    except PartnerApiError as exc:
        log.info(
            "conclusion_unavailable consultation=%s error=%s", consultation.id, type(exc).__name__
        )
        reason = partner_error_text(t, exc)
        await bot.send_message(chat_id, t("notify-conclusion-unavailable", reason=reason))
        return
    if conclusion.outcome is ConclusionOutcome.EMPTY:
        await bot.send_message(chat_id, t("notify-conclusion-empty", short_id=sid))
        return
    text, doctor = conclusion.text, conclusion.doctor
    # Medical text: no forwarding or saving out of the chat (protect_content).
    await bot.send_message(
        chat_id,
        t("notify-conclusion-header", doctor=escape(doctor), short_id=sid),
        protect_content=True,
    )
    # The doctor's text is sent as plain text: no escaping to inflate it past the limit.
    for part in split_message(text, CONCLUSION_PART_LIMIT):
        await bot.send_message(chat_id, part, parse_mode=None, protect_content=True)
    log.info("conclusion_shown consultation=%s user_id=%s", consultation.id, query.from_user.id)


async def start_again(
    query: CallbackQuery,
    callback_data: StartAgainCallback,
    session: AsyncSession,
    actor: Actor,
    t: Translator,
    dialog_manager: DialogManager,
) -> None:
    if not _is_private(query):
        await query.answer(t("notify-conclusion-private"), show_alert=True)
        return
    consultation = await open_consultation(session, actor, callback_data.cid, Action.REPEAT)
    if consultation.doctor_id is None:
        await query.answer(t("notify-again-unavailable"), show_alert=True)
        return
    await query.answer()
    # A new message: the "did not take place" notice stays readable above the wizard.
    await dialog_manager.start(
        StartCallbackSG.start_time,
        data=prefill(consultation, None),
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


def setup() -> Router:
    router = Router(name="conclusion")
    router.callback_query.register(show_conclusion, ConclusionCallback.filter())
    router.callback_query.register(start_again, StartAgainCallback.filter(F.cid > 0))
    return router
