"""The consultation card: a pure renderer (text + Refresh/Terminate buttons).

Shown in private chats only (it carries the patient's name and phone). Input is a plain
``CardView`` copy so callers (the wizard, lists, notifications) need no ORM object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape as _html_escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import CardAction, CardCallback
from bot.i18n import Translator
from bot.input_parsing.phone import format_phone
from bot.rendering.time import format_local


def escape(text: str) -> str:
    # Text content only (never attributes): quotes stay readable in the raw HTML.
    return _html_escape(text, quote=False)


@dataclass(frozen=True, slots=True)
class CardView:
    id: int
    partner_id: str | None
    state: str  # storage ConsultationState value
    status: str | None = None  # the partner's status id ("Registered", …)
    doctor_id: int | None = None
    doctor_name: str | None = None
    patient_name: str | None = None
    patient_phone: str | None = None  # E.164
    begin_at: datetime | None = None  # None: at once
    duration_min: int | None = None
    attachment_name: str | None = None

    @classmethod
    def of(cls, consultation: Any) -> CardView:
        """From a storage ``Consultation`` (or anything with the same attributes)."""
        state = consultation.state
        return cls(
            id=consultation.id,
            partner_id=consultation.partner_id,
            state=str(getattr(state, "value", state)),
            status=consultation.last_status,
            doctor_id=consultation.doctor_id,
            doctor_name=consultation.doctor_name,
            patient_name=consultation.patient_name,
            patient_phone=consultation.patient_phone,
            begin_at=consultation.begin_at,
            duration_min=consultation.duration_min,
            attachment_name=consultation.attachment_name,
        )


def short_id(view: CardView) -> str:
    if view.partner_id:
        return view.partner_id.split("-", 1)[0][:8]
    return f"#{view.id}"


def card_text(view: CardView, t: Translator, tz: tzinfo, *, now: datetime | None = None) -> str:
    lines = [t("card-title", consultation_id=short_id(view))]
    if view.state == "unknown":
        lines.append(t("card-outcome-unknown"))
    elif view.state == "starting":
        lines.append(t("card-starting"))
    elif view.state == "failed":
        lines.append(t("card-failed"))
    status = t(f"notify-status-{view.status}") if view.status else t("card-status-none")
    lines.append(t("card-status", status=status))
    doctor = view.doctor_name or t("wizard-doctor-unnamed", doctor_id=view.doctor_id or 0)
    lines.append(t("card-doctor", doctor=escape(doctor)))
    lines.append(
        t(
            "card-patient",
            name=escape(view.patient_name or "—"),
            phone=escape(format_phone(view.patient_phone) if view.patient_phone else "—"),
        )
    )
    start = (
        format_local(view.begin_at, tz, t.lang, now=now, with_date=True)
        if view.begin_at is not None
        else t("wizard-start-now")
    )
    lines.append(t("card-time", start=start))
    duration = (
        t("wizard-duration-minutes", minutes=view.duration_min)
        if view.duration_min
        else t("wizard-duration-none")
    )
    lines.append(t("card-duration", duration=duration))
    if view.attachment_name:
        lines.append(t("card-attachment", attachment=escape(view.attachment_name)))
    return "\n".join(lines)


def card_keyboard(view: CardView, t: Translator) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(
            text=t("card-btn-refresh"),
            callback_data=CardCallback(action=CardAction.REFRESH, consultation_id=view.id).pack(),
        )
    ]
    final = view.state in ("final", "failed") or view.status in ("Processed", "Unsuccessful")
    if not final:
        row.append(
            InlineKeyboardButton(
                text=t("card-btn-terminate"),
                callback_data=CardCallback(
                    action=CardAction.TERMINATE, consultation_id=view.id
                ).pack(),
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[row])


def render_card(
    view: CardView, t: Translator, tz: tzinfo, *, now: datetime | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    return card_text(view, t, tz, now=now), card_keyboard(view, t)
