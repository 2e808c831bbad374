"""The consultation card as opened from a list: the wizard's card (bot/rendering/card.py)
plus history, calls, attachments and the conclusion note, with its buttons.

Pure except ``fetch`` (one ``get`` request).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, tzinfo
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from api_client.errors import NotFound, PartnerApiError
from api_client.models import Callback
from bot.dialogs.consultations_list.callback_data import ConsAction, ConsCallback, ListPosition
from bot.dialogs.consultations_list.source import doctor_name_of, is_staff, role_value
from bot.i18n import Translator
from bot.notifications.callback_data import ConclusionCallback
from bot.rendering.card import CardView, card_text
from bot.rendering.consultation_list import CardCall, CardDetails, card_details_text
from storage.enums import ConsultationState, Origin, Role
from storage.models import Consultation

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"Processed", "Unsuccessful"})


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    callback: Callback | None
    offline: bool  # the service did not answer (or has no such consultation any more)


async def fetch(api: Any, consultation: Consultation) -> Fetched:
    if not consultation.partner_id:
        return Fetched(None, False)
    try:
        return Fetched(await api.get_callback(consultation.partner_id), False)
    except NotFound:
        return Fetched(None, True)
    except PartnerApiError as exc:
        log.info("card_fetch_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        return Fetched(None, True)


def current_status(consultation: Consultation, cb: Callback | None) -> str | None:
    if cb is not None and cb.current_status.value != "Unknown":
        return cb.current_status.value
    return consultation.last_status


def is_final(consultation: Consultation, cb: Callback | None = None) -> bool:
    if consultation.state in (ConsultationState.FINAL, ConsultationState.FAILED):
        return True
    return current_status(consultation, cb) in FINAL_STATUSES


def view_of(consultation: Consultation, cb: Callback | None) -> CardView:
    view = CardView.of(consultation)
    changes: dict[str, Any] = {"status": current_status(consultation, cb)}
    if cb is not None:
        if is_final(consultation, cb) and view.state not in ("final", "failed"):
            changes["state"] = "final"
        changes["doctor_name"] = doctor_name_of(cb, consultation)
        purged_bot_row = consultation.purged_at is not None and consultation.origin is Origin.BOT
        if not purged_bot_row:
            changes["patient_name"] = cb.patient_full_name or view.patient_name
            if cb.patient_phone is not None:
                changes["patient_phone"] = cb.patient_phone.e164
    if view.attachment_name and cb is not None and cb.attachments:
        changes["attachment_name"] = None  # listed with the others in the details
    return dataclasses.replace(view, **changes)


def details_of(consultation: Consultation, cb: Callback | None, offline: bool) -> CardDetails:
    history: list[tuple[str, datetime | None]] = []
    calls: list[CardCall] = []
    names: list[str] = []
    report = False
    if cb is not None:
        for entry in cb.statuses:
            if entry.status is not None and entry.status.id.value != "Unknown":
                history.append((entry.status.id.value, entry.created_at_utc))
        for call in cb.calls:
            calls.append(
                CardCall(
                    actor=call.actor.id if call.actor is not None else None,
                    started_at=call.started_at_utc,
                    duration_s=call.duration,
                    successful=call.successful,
                )
            )
        names = [m.name for m in cb.attachments if m.name]
        report = cb.medical_report is not None and bool((cb.medical_report.text or "").strip())
    return CardDetails(
        history=tuple(history),
        calls=tuple(calls),
        attachment_names=tuple(names),
        conclusion_ready=report,
        purged=consultation.purged_at is not None,
        external=consultation.origin is Origin.EXTERNAL,
        offline=offline,
    )


def _button(
    text: str, data: ConsCallback | ListPosition | ConclusionCallback
) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def card_keyboard(
    consultation: Consultation,
    cb: Callback | None,
    user: Any,
    pos: ListPosition,
    t: Translator,
    *,
    conclusion_ready: bool,
) -> InlineKeyboardMarkup:
    cid = consultation.id
    final = is_final(consultation, cb)
    staff = is_staff(user)
    rows: list[list[InlineKeyboardButton]] = []
    first = [_button(t("card-btn-refresh"), ConsCallback.at(ConsAction.REFRESH, cid, pos))]
    if staff and not final and consultation.partner_id:
        first.append(
            _button(t("card-btn-terminate"), ConsCallback.at(ConsAction.TERMINATE, cid, pos))
        )
    rows.append(first)
    if staff and final and consultation.doctor_id is not None:
        rows.append([_button(t("list-btn-repeat"), ConsCallback.at(ConsAction.REPEAT, cid, pos))])
    if staff and not final and current_status(consultation, cb) == "Delayed":
        rows.append(
            [_button(t("list-btn-reschedule"), ConsCallback.at(ConsAction.RESCHEDULE, cid, pos))]
        )
    if conclusion_ready:
        rows.append([_button(t("notify-btn-conclusion"), ConclusionCallback(cid=cid))])
    if role_value(user) == Role.DOCTOR.value and not final:
        rows.append(
            [_button(t("list-btn-cant-take"), ConsCallback.at(ConsAction.CANT_TAKE, cid, pos))]
        )
    rows.append([_button(t("list-btn-back"), pos)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render(
    consultation: Consultation,
    fetched: Fetched,
    user: Any,
    pos: ListPosition,
    t: Translator,
    tz: tzinfo,
    *,
    header: str | None = None,
    now: datetime | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    cb = fetched.callback
    details = details_of(consultation, cb, fetched.offline)
    parts = [header] if header else []
    parts.append(card_text(view_of(consultation, cb), t, tz, now=now))
    extra = card_details_text(details, t, tz, now=now)
    if extra:
        parts.append(extra)
    keyboard = card_keyboard(
        consultation, cb, user, pos, t, conclusion_ready=details.conclusion_ready
    )
    return "\n".join(parts), keyboard


def confirm_keyboard(
    cid: int, pos: ListPosition, t: Translator, yes: ConsAction
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("list-btn-yes"), ConsCallback.at(yes, cid, pos)),
                _button(t("list-btn-no"), ConsCallback.at(ConsAction.CONFIRM_NO, cid, pos)),
            ]
        ]
    )
