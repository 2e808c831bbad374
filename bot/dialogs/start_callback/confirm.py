"""Confirm: record locally, call start-callback once, and turn the answer into a card.

Order matters (DESIGN.md, "Never call a patient twice"):
1. the local record (state ``starting``, hashed notification token) is committed *before*
   the call, so the notification GET can find it and a crash leaves a trace;
2. start-callback is called exactly once — a lost answer (``OutcomeUnknown``) marks the
   record ``unknown`` and is never retried; a first check against ``get-all`` runs at once;
3. the answer is bound and committed, then the card is sent and its ids stored.

A double press cannot start two consultations: aiogram-dialog serialises events of one
stack (its events isolation lock is held for the whole handler), and the ``confirming``
flag in dialog_data stops a second press that slips in after a failed first one.
"""

from __future__ import annotations

import io
import logging
import secrets
from contextlib import suppress
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery
from aiogram.utils.chat_action import ChatActionSender
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.client import Attachment, PartnerApiClient
from api_client.errors import (
    ApiUnavailable,
    AttachmentTooLarge,
    BadArgument,
    Conflict,
    InsufficientFunds,
    LimitExceeded,
    NotFound,
    OutcomeUnknown,
    PartnerApiError,
    ServerError,
)
from api_client.models import Callback, Phone, RequestStatus
from bot.alerts import alert_insufficient_funds
from bot.dialogs.answered import answer_early
from bot.dialogs.start_callback import handlers
from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.getters import utcnow
from bot.i18n import Translator
from bot.input_parsing.errors import InputError
from bot.input_parsing.start_time import check_start_time
from bot.rendering.card import CardView, CardViewer, render_card
from bot.rendering.partner_errors import partner_error_text
from bot.settings import Settings
from bot.start_outcome import find_started, record_start
from bot.states import StartCallbackSG as SG
from storage.enums import ConsultationState, EventSource
from storage.models import Consultation
from storage.repositories.consultations import ConsultationRepository
from storage.repositories.status_events import StatusEventRepository

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


async def _start(callback: CallbackQuery, manager: DialogManager) -> None:
    md = manager.middleware_data
    data = manager.dialog_data
    settings: Settings = md["settings"]
    api: PartnerApiClient = md["api"]
    session: AsyncSession = md["session"]
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
            check_start_time(begin_at, handlers.now_of(manager))
        except InputError as exc:
            handlers.set_input_error(manager, exc)
            data[S.EDITING] = True
            await manager.switch_to(SG.start_time)
            return
    attachment_meta: dict[str, Any] | None = data.get(S.ATTACHMENT)
    doctor_id = int(data[S.DOCTOR_ID])
    phone_e164: str = data[S.PHONE]

    # 1. The local record, durable before the call (its token is in the notification URL).
    token = secrets.token_urlsafe(24)
    repo = ConsultationRepository(session)
    record = await repo.create_starting(
        token,
        coordinator_id=callback.from_user.id,
        doctor_id=doctor_id,
        doctor_name=data.get(S.DOCTOR_NAME),
        patient_name=data[S.NAME],
        patient_phone=phone_e164,
        begin_at=begin_at,
        duration_min=data.get(S.DURATION),
        attachment_name=attachment_meta["name"] if attachment_meta else None,
    )
    attempted_at = record.start_attempted_at or utcnow()
    await session.commit()

    # The phone is checked again here, after our record is committed: a wizard started at
    # the time step (Repeat, Reschedule) never passed the phone step, and of two
    # coordinators confirming the same phone at once the later one sees the other's record.
    warning = await handlers.phone_warning(
        session, phone_e164, data.get(S.PHONE_DISPLAY) or phone_e164, data, exclude_id=record.id
    )
    if warning is not None:
        await session.delete(record)  # never called: nothing to keep
        await session.commit()
        log.info("wizard start held: the phone has an open consultation")
        data[S.PHONE_WARNING] = warning
        data[S.EDITING] = True  # "Continue anyway" returns to the summary
        await manager.switch_to(SG.phone_warning)
        return
    log.info("wizard start consultation_id=%s doctor_id=%s", record.id, doctor_id)

    # 2. The call, once.
    started: Callback | None = None
    try:
        attachment = None
        if attachment_meta:
            await bot.send_chat_action(chat_id, "upload_document")
            attachment = await _download(bot, attachment_meta)
        async with (
            ChatActionSender.upload_document(chat_id=chat_id, bot=bot, initial_sleep=4.0)
            if attachment
            else _nullcontext()
        ):
            started = await api.start_callback(
                doctor_id,
                Phone.from_e164(phone_e164),
                data[S.NAME],
                begin_at=begin_at,
                duration_min=data.get(S.DURATION),
                attachment=attachment,
                notification_url=settings.hook_url(token),
            )
    except (OutcomeUnknown, ServerError) as exc:
        # A 500 on a POST that is not idempotent may have created it: as unknown as a
        # lost answer, and checked against get-all before anyone may try again.
        name = type(exc).__name__
        log.warning("wizard start outcome unknown consultation_id=%s: %s", record.id, name)
    except PartnerApiError as exc:
        await repo.set_state(record.id, ConsultationState.FAILED)
        await session.commit()
        await _upstream_error(manager, exc, record.id)
        return

    # 3. From here on a consultation may exist: whatever fails next, the wizard is closed so
    # its Confirm cannot call the patient again.
    try:
        if started is None:
            await _outcome_unknown(manager, record, attempted_at, chat_id)
        else:
            await _started(manager, record, started, chat_id)
    finally:
        await _close(manager)


async def _close(manager: DialogManager) -> None:
    if manager.has_context():
        await manager.done()


async def _started(
    manager: DialogManager, record: Consultation, started: Callback, chat_id: int
) -> None:
    """Audit, bind, record the first status, show the card, and let the notifications worker
    announce the start now (the doctor's "booked") rather than at its next look."""
    session: AsyncSession = manager.middleware_data["session"]
    try:
        # Its own commit: the start is on record even if the bind below fails.
        await record_start(session, record.coordinator_id, record.id)
        await session.commit()
        await _bind(session, record, started, EventSource.START)
        await session.commit()
        await _send_card(manager, record.id, chat_id, started)
        _wake_notifications(manager)
    except Exception as exc:
        await _card_failed(manager, record.id, chat_id, exc)


async def _card_failed(
    manager: DialogManager, consultation_id: int, chat_id: int, exc: BaseException
) -> None:
    """The consultation was (or may have been) started but its card is not shown: one line
    pointing to /list. A record left ``starting`` is settled by the reconcile job."""
    log.error(
        "wizard card not shown consultation_id=%s: %s", consultation_id, type(exc).__name__
    )
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
    return Attachment(filename=meta["name"], content=buffer.getvalue(), content_type=meta["mime"])


def _first_status(callback: Callback) -> tuple[str, datetime]:
    if callback.statuses:
        last = max(
            (h for h in callback.statuses if h.status is not None),
            key=lambda h: h.created_at_utc or datetime.min.replace(tzinfo=utcnow().tzinfo),
            default=None,
        )
        if last is not None and last.status is not None:
            return last.status.id.value, last.created_at_utc or callback.created_at_utc or utcnow()
    status = callback.status.id if callback.status is not None else RequestStatus.REGISTERED
    if status is RequestStatus.UNKNOWN:
        status = RequestStatus.REGISTERED
    return status.value, callback.created_at_utc or utcnow()


async def _bind(
    session: AsyncSession, record: Consultation, started: Callback, source: EventSource
) -> bool:
    repo = ConsultationRepository(session)
    doctor_name = started.doctor_full_name or (started.doctor.full_name if started.doctor else None)
    bound = await repo.bind_partner_id(
        record.id, started.id, state=ConsultationState.ACTIVE, doctor_name=doctor_name or None
    )
    if not bound:
        log.warning("wizard bind refused consultation_id=%s callback_id=%s", record.id, started.id)
        return False
    status, occurred_at = _first_status(started)
    await StatusEventRepository(session).record(record.id, status, occurred_at, source)
    # The start event is stored without telling anyone: the worker announces it (with the
    # dedupe keys a web-hook would use). Flagged in this transaction, so a crash before the
    # wake-up still leaves it for the worker's next look.
    await repo.request_refresh([record.id])
    return True


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
    return render_card(CardView.of(record, callback), md["t"], md["tz"], viewer)


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
    sent = await bot.send_message(chat_id, text, reply_markup=markup)
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
    manager: DialogManager, record: Consultation, attempted_at: datetime, chat_id: int
) -> None:
    """Never a second call: mark unknown, show it, and look for it in get-all once now."""
    md = manager.middleware_data
    session: AsyncSession = md["session"]
    api: PartnerApiClient = md["api"]
    repo = ConsultationRepository(session)
    try:
        await repo.set_state(record.id, ConsultationState.UNKNOWN)
        await session.commit()
        await _send_card(manager, record.id, chat_id)
    except Exception as exc:
        await _card_failed(manager, record.id, chat_id, exc)
    await _close(manager)
    try:
        found = await find_started(
            api,
            doctor_id=int(record.doctor_id or 0),
            phone_e164=record.patient_phone or "",
            attempted_at=attempted_at,
        )
    except PartnerApiError as exc:
        log.info("wizard first check failed consultation_id=%s: %s", record.id, type(exc).__name__)
        return
    if found is None:
        return  # stays unknown; the reconcile job keeps looking
    # Found at once: this is still the wizard's start (source "start"), so the worker
    # announces it like any other start.
    if await _bind(session, record, found, EventSource.START):
        await record_start(session, record.coordinator_id, record.id)
        await session.commit()
        _wake_notifications(manager)
        try:
            await _edit_card(manager, record.id, found)
        except Exception as exc:
            name = type(exc).__name__
            log.error("wizard card not edited consultation_id=%s: %s", record.id, name)


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
    """Once per incident, not per consultation: bot/alerts.py keys the 402 alert by the UTC
    day for each admin, so a coordinator retrying (or ten of them) alerts each admin once."""
    md = manager.middleware_data
    session: AsyncSession = md["session"]
    queued = await alert_insufficient_funds(session, md["settings"], i18n=md.get("i18n"))
    await session.commit()
    wake = md.get("outbox_wakeup")
    if queued and callable(wake):
        wake()
