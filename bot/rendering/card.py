"""The consultation card: ONE pure renderer (text + keyboard) for every place it is drawn.

The wizard's confirm, the card opened from /list or /find (bot/routers/consultations.py) and
the notifications' in-place edits (bot/notifications/runtime.py) all call ``render_card``,
so the card reads the same wherever it is drawn: status with its history (times with their
zone), doctor, patient (private chats only), start, duration, calls, attachments, the
conclusion note, and notes for purged / started-elsewhere consultations.

``CardView.of`` merges the local record with the partner's answer when there is one (no I/O
here); ``CardViewer`` says who looks and where, which decides the buttons:
Refresh always; Terminate while not final (coordinators and admins); Repeat on a final one;
Reschedule on a scheduled one; Conclusion when Processed; "I can't take it" for doctors;
Back to the list only when the card was opened from a list.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from html import escape as _html_escape
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import (
    CardAction,
    CardCallback,
    ConclusionCallback,
    ConsAction,
    ConsCallback,
    ListPosition,
)
from bot.i18n import Translator
from bot.input_parsing.phone import format_phone
from bot.rendering.time import format_local

if TYPE_CHECKING:
    from api_client.models import Callback
    from bot.middlewares.access import HasRole
    from storage.models import Consultation

FINAL_STATUSES = frozenset({"Processed", "Unsuccessful"})
STAFF_ROLES = frozenset({"admin", "coordinator"})

# A card drawn outside a list carries the short ``card:`` buttons (they need no position);
# one drawn from a list carries ``cons:`` buttons with the list position for "Back".
_CARD_ACTIONS: dict[ConsAction, CardAction] = {
    ConsAction.REFRESH: CardAction.REFRESH,
    ConsAction.TERMINATE: CardAction.TERMINATE,
    ConsAction.TERMINATE_YES: CardAction.TERMINATE_YES,
    ConsAction.RESCHEDULE: CardAction.RESCHEDULE,
    ConsAction.RESCHEDULE_YES: CardAction.RESCHEDULE_YES,
    ConsAction.CONFIRM_NO: CardAction.CONFIRM_NO,
    ConsAction.REPEAT: CardAction.REPEAT,
    ConsAction.CANT_TAKE: CardAction.CANT_TAKE,
}
CONS_ACTIONS: dict[CardAction, ConsAction] = {v: k for k, v in _CARD_ACTIONS.items()}


def escape(text: str) -> str:
    # Text content only (never attributes): quotes stay readable in the raw HTML.
    return _html_escape(text, quote=False)


@dataclass(frozen=True, slots=True)
class CardCall:
    actor: str | None  # "Patient" / "Doctor"
    started_at: datetime | None
    duration_s: int | None
    successful: bool | None


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
    attachment_name: str | None = None  # the one the wizard sent (before the API lists it)
    history: tuple[tuple[str, datetime | None], ...] = ()
    calls: tuple[CardCall, ...] = ()
    attachment_names: tuple[str, ...] = ()  # as the API lists them
    conclusion_ready: bool = False
    purged: bool = False
    external: bool = False  # started outside the bot
    offline: bool = False  # the service did not answer: local data only
    settles_by: datetime | None = None  # an unknown start: when its outcome is known at latest

    @property
    def final(self) -> bool:
        return self.state in ("final", "failed") or self.status in FINAL_STATUSES

    @classmethod
    def of(
        cls,
        consultation: Consultation,
        callback: Callback | None = None,
        *,
        offline: bool = False,
        settle_within: timedelta | None = None,
    ) -> CardView:
        """From a storage ``Consultation``, merged with the partner's ``Callback`` if any;
        ``settle_within`` (Settings.start_settle_within): how long a lost start may stay
        unknown, shown on its card as a time."""
        purged = consultation.purged_at is not None
        # The storage enums are StrEnums: str() is the value. ``origin`` is None on a row not
        # flushed yet (its default is applied on insert).
        external = str(consultation.origin) == "external"
        view = cls(
            id=consultation.id,
            partner_id=consultation.partner_id,
            state=str(consultation.state),
            status=current_status(consultation, callback),
            doctor_id=consultation.doctor_id,
            doctor_name=consultation.doctor_name,
            patient_name=consultation.patient_name,
            patient_phone=consultation.patient_phone,
            begin_at=consultation.begin_at,
            duration_min=consultation.duration_min,
            attachment_name=consultation.attachment_name,
            purged=purged,
            external=external,
            offline=offline,
            settles_by=_settles_by(consultation, settle_within),
        )
        if callback is None:
            return view
        changes: dict[str, Any] = {}
        if view.status in FINAL_STATUSES and view.state not in ("final", "failed"):
            changes["state"] = "final"
        doctor = callback.doctor_full_name or (
            callback.doctor.full_name if callback.doctor is not None else None
        )
        if doctor:
            changes["doctor_name"] = doctor
        if not (purged and not external):  # a purged bot row stays purged
            changes["patient_name"] = callback.patient_full_name or view.patient_name
            if callback.patient_phone is not None:
                changes["patient_phone"] = callback.patient_phone.e164
        changes["history"] = tuple(
            (entry.status.id.value, entry.created_at_utc)
            for entry in callback.statuses
            if entry.status is not None and entry.status.id.value != "Unknown"
        )
        changes["calls"] = tuple(
            CardCall(
                actor=call.actor.id if call.actor is not None else None,
                started_at=call.started_at_utc,
                duration_s=call.duration,
                successful=call.successful,
            )
            for call in callback.calls
        )
        names = tuple(m.name for m in callback.attachments if m.name)
        changes["attachment_names"] = names
        if names:
            changes["attachment_name"] = None  # listed with the others
        report = callback.medical_report
        changes["conclusion_ready"] = report is not None and bool((report.text or "").strip())
        return dataclasses.replace(view, **changes)


@dataclass(frozen=True, slots=True)
class CardViewer:
    """Who looks at the card, and where."""

    role: str | None  # "admin", "coordinator", "doctor" (None: nobody we know)
    private: bool = True  # patient data is shown in private chats only
    back: ListPosition | None = None  # opened from a list: "Back" returns to this position
    # May open the conclusion (bot/routers/conclusion.py::may_read): its coordinator, a
    # doctor linked to its doctor, an admin. Nobody else is offered a button that refuses.
    reads_conclusion: bool = True

    @classmethod
    def of(
        cls,
        user: HasRole | None,
        *,
        private: bool = True,
        back: ListPosition | None = None,
        reads_conclusion: bool = True,
    ) -> CardViewer:
        value = None if user is None else str(user.role)
        return cls(role=value, private=private, back=back, reads_conclusion=reads_conclusion)

    @property
    def staff(self) -> bool:
        return self.role in STAFF_ROLES


def current_status(consultation: Consultation, callback: Callback | None = None) -> str | None:
    if callback is not None and callback.current_status.value != "Unknown":
        return str(callback.current_status.value)
    status = consultation.last_status
    return None if status is None else str(status)


def is_final(consultation: Consultation, callback: Callback | None = None) -> bool:
    if str(consultation.state) in ("final", "failed"):
        return True
    return current_status(consultation, callback) in FINAL_STATUSES


def short_id(view: CardView) -> str:
    if view.partner_id:
        return view.partner_id.split("-", 1)[0][:8]
    return f"#{view.id}"


def _when(at: datetime | None, t: Translator, tz: tzinfo, now: datetime | None) -> str:
    return format_local(at, tz, t.lang, now=now, with_date=True) if at is not None else "—"


def offers_conclusion(view: CardView, viewer: CardViewer) -> bool:
    """Whether the card carries the Conclusion button (the text's hint goes with it)."""
    return view.status == "Processed" and viewer.private and viewer.reads_conclusion


def _settles_by(consultation: Consultation, within: timedelta | None) -> datetime | None:
    if within is None or str(consultation.state) not in ("unknown", "starting"):
        return None
    attempted = consultation.start_attempted_at or consultation.created_at
    return attempted + within if attempted is not None else None


def card_text(
    view: CardView,
    t: Translator,
    tz: tzinfo,
    *,
    private: bool = True,
    now: datetime | None = None,
    conclusion_button: bool = True,
) -> str:
    lines = [t("card-title", consultation_id=short_id(view))]
    if view.state == "unknown":
        lines.append(t("card-outcome-unknown"))
        if view.settles_by is not None:
            by = format_local(view.settles_by, tz, t.lang, now=now)
            lines.append(t("card-outcome-unknown-by", by=by))
    elif view.state == "starting":
        lines.append(t("card-starting"))
    elif view.state == "failed":
        lines.append(t("card-failed"))
    status = t(f"notify-status-{view.status}") if view.status else t("card-status-none")
    lines.append(t("card-status", status=status))
    doctor = view.doctor_name or t("wizard-doctor-unnamed", doctor_id=view.doctor_id or 0)
    lines.append(t("card-doctor", doctor=escape(doctor)))
    if private:
        lines.append(
            t(
                "card-patient",
                name=escape(view.patient_name or "—"),
                phone=escape(format_phone(view.patient_phone) if view.patient_phone else "—"),
            )
        )
    else:
        lines.append(t("card-patient-private"))
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
    if private and view.attachment_name:
        lines.append(t("card-attachment", attachment=escape(view.attachment_name)))
    # The details (what the partner's answer adds), below the basic card.
    if view.offline:
        lines.append(t("list-card-offline"))
    if view.history:
        lines.append(t("list-card-history"))
        for hist_status, at in view.history:
            lines.append(
                "  "
                + t(
                    "list-card-history-line",
                    when=_when(at, t, tz, now),
                    status=t(f"notify-status-{hist_status}"),
                )
            )
    if view.calls:
        lines.append(t("list-card-calls"))
        for call in view.calls:
            who = {
                "Patient": t("list-card-call-patient"),
                "Doctor": t("list-card-call-doctor"),
            }.get(call.actor or "", escape(call.actor or "—"))
            seconds = max(call.duration_s or 0, 0)
            lines.append(
                "  "
                + t(
                    "list-card-call",
                    when=_when(call.started_at, t, tz, now),
                    who=who,
                    duration=t(
                        "list-card-call-seconds", minutes=seconds // 60, seconds=seconds % 60
                    ),
                    result=t("list-card-call-ok" if call.successful else "list-card-call-failed"),
                )
            )
    if private and view.attachment_names:
        names = ", ".join(escape(n) for n in view.attachment_names)
        lines.append(t("list-card-attachments", names=names))
    # The line says "press the button": only for those who get it. Others (another
    # coordinator, a group chat) see the status alone, nothing pointing at a missing button.
    if view.conclusion_ready and conclusion_button:
        lines.append(t("list-card-conclusion"))
    if view.external:
        lines.append(t("list-card-external"))
    if view.purged:
        lines.append(t("list-card-purged"))
    return "\n".join(lines)


def card_button_data(act: ConsAction, cid: int, back: ListPosition | None) -> str:
    """The callback data of a card button (and of its Yes/No confirmation)."""
    if back is None:
        return CardCallback(action=_CARD_ACTIONS[act], consultation_id=cid).pack()
    return ConsCallback.at(act, cid, back).pack()


def _button(
    text: str, act: ConsAction, cid: int, back: ListPosition | None
) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=card_button_data(act, cid, back))


def card_keyboard(view: CardView, viewer: CardViewer, t: Translator) -> InlineKeyboardMarkup:
    cid, back = view.id, viewer.back
    final = view.final
    rows: list[list[InlineKeyboardButton]] = []
    first = [_button(t("card-btn-refresh"), ConsAction.REFRESH, cid, back)]
    if viewer.staff and not final and view.partner_id:
        first.append(_button(t("card-btn-terminate"), ConsAction.TERMINATE, cid, back))
    rows.append(first)
    if viewer.staff and final and view.doctor_id is not None:
        rows.append([_button(t("list-btn-repeat"), ConsAction.REPEAT, cid, back)])
    if viewer.staff and not final and view.status == "Delayed":
        rows.append([_button(t("list-btn-reschedule"), ConsAction.RESCHEDULE, cid, back)])
    if offers_conclusion(view, viewer):
        rows.append(
            [
                InlineKeyboardButton(
                    text=t("notify-btn-conclusion"),
                    callback_data=ConclusionCallback(cid=cid).pack(),
                )
            ]
        )
    if viewer.role == "doctor" and not final:
        rows.append([_button(t("list-btn-cant-take"), ConsAction.CANT_TAKE, cid, back)])
    if back is not None:
        rows.append([InlineKeyboardButton(text=t("list-btn-back"), callback_data=back.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(
    cid: int, yes: ConsAction, back: ListPosition | None, t: Translator
) -> InlineKeyboardMarkup:
    """Yes / No under a "Terminate …?" question drawn in the card's place."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t("list-btn-yes"), yes, cid, back),
                _button(t("list-btn-no"), ConsAction.CONFIRM_NO, cid, back),
            ]
        ]
    )


def render_card(
    view: CardView,
    t: Translator,
    tz: tzinfo,
    viewer: CardViewer,
    *,
    header: str | None = None,
    now: datetime | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    text = card_text(
        view,
        t,
        tz,
        private=viewer.private,
        now=now,
        conclusion_button=offers_conclusion(view, viewer),
    )
    if header:
        text = f"{header}\n{text}"
    return text, card_keyboard(view, viewer, t)
