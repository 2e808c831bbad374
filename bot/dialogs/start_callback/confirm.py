"""Confirm: record locally, call start-callback once, and turn the answer into a card.

The use case — the role checked now, the record committed before the call, the phone
checked again, one call, a lost answer never retried — is ``bot/services/consultation_start``;
this module reads the dialog's data into a ``StartRequest`` and renders the outcome: the
card (its ids stored), the phone warning, the step that fixes a refused argument, or a
first look through get-all after a lost answer.

A double press cannot start two consultations: aiogram-dialog serialises events of one
stack (its events isolation lock is held for the whole handler), and the ``confirming``
flag in dialog_data stops a second press that slips in after a failed first one.
"""

from __future__ import annotations

import io
import logging
from contextlib import suppress
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery
from aiogram.utils.chat_action import ChatActionSender
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.callbacks import media_type_or_default
from api_client.client import Attachment
from api_client.errors import (
    ApiUnavailable,
    AttachmentTooLarge,
    BadArgument,
    Conflict,
    InsufficientFunds,
    LimitExceeded,
    NotFound,
    PartnerApiError,
)
from api_client.models import Callback
from bot.dialogs.answered import answer_early
from bot.dialogs.start_callback import handlers, patient_steps
from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.getters import now_of
from bot.i18n import Translator
from bot.input_parsing.errors import InputError
from bot.input_parsing.start_time import check_start_time
from bot.rendering.card import CardView, CardViewer, render_card
from bot.rendering.partner_errors import partner_error_text
from bot.services.alerts import alert_insufficient_funds
from bot.services.consultation_start import (
    AlreadyStarted,
    ConsultationStarter,
    OutcomeLost,
    PhoneBusy,
    Refused,
    Started,
    StartRequest,
)
from bot.services.context import actor_of
from bot.settings import Settings
from bot.states import StartCallbackSG as SG
from storage.models import Consultation
from storage.repositories.consultations import ConsultationRepository

log = logging.getLogger(__name__)

# BadArgument.value (the API's parameter name, case-insensitive) → the step that fixes it.
_ARGUMENT_STEPS = {
    "doctorid": SG.doctor,
    "patientphone": SG.phone,
    "patientphonecode": SG.phone,
    "patientphonenumber": SG.phone,
    "patientfullname": SG.name,
    "beginatutc": SG.start_time,
    "duration": SG.duration,
    "attachment": SG.attachment,
}


def _key(value: str | None) -> str:
    return "".join(ch for ch in (value or "").lower() if ch.isalpha())


async def on_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    # Answered before the slow work; recorded, so aiogram-dialog does not answer it again.
    await answer_early(callback, manager.middleware_data)
    data = manager.dialog_data
    if data.get(S.CONFIRMING):
        log.info("wizard confirm ignored: already in progress")
        return
    data[S.CONFIRMING] = True
    try:
        await _start(callback, manager)
    finally:
        if manager.has_context():
            manager.dialog_data.pop(S.CONFIRMING, None)


def starter_of(manager: DialogManager) -> ConsultationStarter:
    md = manager.middleware_data
    settings: Settings = md["settings"]
    return ConsultationStarter(md["session"], md["api"], settings.hook_url, lambda: now_of(manager))


async def _start(callback: CallbackQuery, manager: DialogManager) -> None:
    """Parse the dialog's data → the start service → render its outcome."""
    md = manager.middleware_data
    data = manager.dialog_data
    actor = actor_of(md)
    starter = starter_of(manager)
    starter.may_start(actor)  # before anything else: a demoted coordinator is told why
    bot: Bot = md["bot"]
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    missing = S.first_missing(data)
    if missing is not None:  # never reached through the steps; a safe way back if it is
        await manager.switch_to(missing)
        return
    begin_at = S.begin_at_of(data)
    if begin_at is not None:
        # "In 15 min" left on the summary for 20 minutes is in the past now.
        try:
            check_start_time(begin_at, now_of(manager))
        except InputError as exc:
            handlers.set_input_error(manager, exc)
            data[S.EDITING] = True
            await manager.switch_to(SG.start_time)
            return
    meta: dict[str, Any] | None = data.get(S.ATTACHMENT)
    request = StartRequest(
        doctor_id=int(data[S.DOCTOR_ID]),
        patient_name=data[S.NAME],
        phone_e164=data[S.PHONE],
        doctor_name=data.get(S.DOCTOR_NAME),
        begin_at=begin_at,
        duration_min=data.get(S.DURATION),
        attachment_name=meta["name"] if meta else None,
        acknowledged_ids=tuple(data.get(S.PHONE_ACK) or ()),
        draft=data.get(S.DRAFT),
    )

    async def load_attachment() -> Attachment | None:
        assert meta is not None
        await bot.send_chat_action(chat_id, "upload_document")
        return await _download(bot, meta)

    async with (
        ChatActionSender.upload_document(chat_id=chat_id, bot=bot, initial_sleep=4.0)
        if meta
        else _nullcontext()
    ):
        result = await starter.start(actor, request, load_attachment if meta else None)

    if isinstance(result, PhoneBusy):
        log.info("wizard start held: the phone has an open consultation")
        display = data.get(S.PHONE_DISPLAY) or request.phone_e164
        data[S.PHONE_WARNING] = patient_steps.warning_of(
            result.open_ones, request.phone_e164, display
        )
        data[S.EDITING] = True  # "Continue anyway" returns to the summary
        await manager.switch_to(SG.phone_warning)
        return
    if isinstance(result, Refused):
        await _upstream_error(manager, result.error, result.consultation_id)
        return
    if isinstance(result, AlreadyStarted):
        # A crash mid-call left this summary on screen: its Confirm is dead.
        t: Translator = md["t"]
        await _close(manager)
        await bot.send_message(chat_id, t("wizard-confirm-already"))
        return
    # From here on a consultation may exist: whatever fails next, the wizard is closed so
    # its Confirm cannot call the patient again.
    try:
        if isinstance(result, OutcomeLost):
            await _outcome_unknown(manager, starter, result, chat_id)
        else:
            await _started(manager, result, chat_id)
    finally:
        await _close(manager)


async def _close(manager: DialogManager) -> None:
    if manager.has_context():
        await manager.done()


async def _started(manager: DialogManager, result: Started, chat_id: int) -> None:
    """Show the card, and let the notifications worker announce the start now (the
    doctor's "booked") rather than at its next look."""
    try:
        if not result.bound:  # started, not on our record yet: the reconcile settles it
            raise RuntimeError("start not bound")
        await _send_card(manager, result.consultation_id, chat_id, result.callback)
        _wake_notifications(manager)
    except Exception as exc:
        await _card_failed(manager, result.consultation_id, chat_id, exc)


async def _card_failed(
    manager: DialogManager, consultation_id: int, chat_id: int, exc: BaseException
) -> None:
    """The consultation was (or may have been) started but its card is not shown: one line
    pointing to /list. A record left ``starting`` is settled by the reconcile job."""
    log.error("wizard card not shown consultation_id=%s: %s", consultation_id, type(exc).__name__)
    md = manager.middleware_data
    session: AsyncSession = md["session"]
    with suppress(Exception):
        await session.rollback()
    await _close(manager)
    t: Translator = md["t"]
    bot: Bot = md["bot"]
    try:
        await bot.send_message(chat_id, t("wizard-card-failed"))
    except Exception as send_exc:
        log.error("wizard fallback line not sent: %s", type(send_exc).__name__)


class _nullcontext:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


async def _download(bot: Bot, meta: dict[str, Any]) -> Attachment:
    """Into memory only: a patient's document is never written to disk."""
    buffer = io.BytesIO()
    await bot.download(meta["file_id"], destination=buffer)
    # media_type_or_default again: a conversation saved before the step checked it.
    return Attachment(
        filename=meta["name"],
        content=buffer.getvalue(),
        content_type=media_type_or_default(meta.get("mime")),
    )


def _wake_notifications(manager: DialogManager) -> None:
    """Wake the status worker (bot/notifications/runtime.py), when it runs in this bot."""
    worker = getattr(manager.middleware_data.get("notifications"), "worker", None)
    if worker is not None:
        worker.wake()


def _render(
    manager: DialogManager, record: Consultation, callback: Callback | None
) -> tuple[str, Any]:
    """The one card (bot/rendering/card.py), as the coordinator in this private chat sees it."""
    md = manager.middleware_data
    viewer = CardViewer.of(md.get("user"), private=True)  # the wizard runs in private chats
    settings: Settings = md["settings"]
    view = CardView.of(record, callback, settle_within=settings.start_settle_within)
    return render_card(view, md["t"], md["tz"], viewer)


async def _send_card(
    manager: DialogManager, consultation_id: int, chat_id: int, callback: Callback | None = None
) -> None:
    md = manager.middleware_data
    session: AsyncSession = md["session"]
    bot: Bot = md["bot"]
    repo = ConsultationRepository(session)
    record = await repo.get(consultation_id)
    if record is None:
        return
    await session.refresh(record)
    text, markup = _render(manager, record, callback)
    # The card shows the patient's name and phone: no forwarding or saving out of the chat.
    sent = await bot.send_message(chat_id, text, reply_markup=markup, protect_content=True)
    await repo.set_card(consultation_id, sent.chat.id, sent.message_id)
    await session.commit()


async def _edit_card(
    manager: DialogManager, consultation_id: int, callback: Callback | None = None
) -> None:
    md = manager.middleware_data
    session: AsyncSession = md["session"]
    record = await ConsultationRepository(session).get(consultation_id)
    if record is None or record.card_chat_id is None or record.card_message_id is None:
        return
    await session.refresh(record)
    text, markup = _render(manager, record, callback)
    bot: Bot = md["bot"]
    await bot.edit_message_text(
        text=text,
        chat_id=record.card_chat_id,
        message_id=record.card_message_id,
        reply_markup=markup,
    )


async def _outcome_unknown(
    manager: DialogManager, starter: ConsultationStarter, lost: OutcomeLost, chat_id: int
) -> None:
    """Never a second call: show it as unknown, and look for it in get-all once now."""
    try:
        await _send_card(manager, lost.consultation_id, chat_id)
    except Exception as exc:
        await _card_failed(manager, lost.consultation_id, chat_id, exc)
    await _close(manager)
    record = await ConsultationRepository(starter.session).get(lost.consultation_id)
    if record is None:
        return
    try:
        found = await starter.find_lost(record, lost.attempted_at)
    except PartnerApiError as exc:
        name = type(exc).__name__
        log.info("wizard first check failed consultation_id=%s: %s", record.id, name)
        return
    if found is None:
        return  # stays unknown; the reconcile job keeps looking
    _wake_notifications(manager)
    try:
        await _edit_card(manager, record.id, found)
    except Exception as exc:
        log.error("wizard card not edited consultation_id=%s: %s", record.id, type(exc).__name__)


async def _upstream_error(
    manager: DialogManager, exc: PartnerApiError, consultation_id: int
) -> None:
    t: Translator = manager.middleware_data["t"]
    data = manager.dialog_data
    message = t("wizard-upstream-error", error=partner_error_text(t, exc))
    log.info("wizard start refused consultation_id=%s: %r", consultation_id, exc)
    if isinstance(exc, InsufficientFunds):
        await _alert_admins(manager)
        chat = manager.middleware_data.get("event_chat")
        await manager.done()
        bot: Bot = manager.middleware_data["bot"]
        if chat is not None:
            await bot.send_message(chat.id, t("wizard-funds-stop"))
        return
    if isinstance(exc, Conflict):
        # The generic 409 sentence talks of a consultation's state; here nothing exists yet.
        message = t("wizard-start-conflict")
    if isinstance(exc, Conflict | LimitExceeded):
        data[S.RETRY_ERROR] = message
        await manager.switch_to(SG.retry)
        return
    if isinstance(exc, ApiUnavailable):
        data[S.ERROR] = t("wizard-try-again", error=partner_error_text(t, exc))
        await manager.switch_to(SG.summary)
        return
    target = SG.summary
    if isinstance(exc, NotFound):
        target = SG.doctor if _key(exc.value) in ("", "doctor", "doctorid") else SG.summary
    elif isinstance(exc, BadArgument):
        target = _ARGUMENT_STEPS.get(_key(exc.value), SG.summary)
    elif isinstance(exc, AttachmentTooLarge):
        target = SG.attachment
    if target != SG.summary:
        data[S.EDITING] = True  # fix that one thing, then back to the summary
    data[S.ERROR] = message
    await manager.switch_to(target)


async def _alert_admins(manager: DialogManager) -> None:
    """Once per incident, not per consultation: bot/services/alerts.py keys the 402 alert by the UTC
    day for each admin, so a coordinator retrying (or ten of them) alerts each admin once."""
    md = manager.middleware_data
    session: AsyncSession = md["session"]
    queued = await alert_insufficient_funds(session, md["settings"], i18n=md.get("i18n"))
    await session.commit()
    wake = md.get("outbox_wakeup")
    if queued and callable(wake):
        wake()
