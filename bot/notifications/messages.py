"""Pure renderers of the status notices: text and buttons in the recipient's language and zone.

Patient data (name) appears only in personal messages, which go to private chats; the team
chat's line carries the short id, status, doctor and coordinator, nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from api_client.models import RequestStatus
from bot.callback_data import ConclusionCallback, StartAgainCallback
from bot.i18n import Translator
from bot.rendering.time import format_local
from bot.services.audience import Notice, NoticeKind


@dataclass(frozen=True, slots=True)
class ConsultationView:
    """What the renderers may know of a consultation (a plain copy, no ORM object)."""

    id: int
    partner_id: str | None
    doctor_name: str | None = None
    coordinator_name: str | None = None
    patient_name: str | None = None
    begin_at: datetime | None = None  # None: started at once
    duration_min: int | None = None
    created_at: datetime | None = None

    @property
    def short_id(self) -> str:
        return short_id(self.partner_id, self.id)


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


def markup_json(markup: InlineKeyboardMarkup | None) -> str | None:
    """The keyboard as the outbox stores it (Bot API JSON)."""
    if markup is None:
        return None
    return json.dumps(markup.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


def short_id(partner_id: str | None, local_id: int) -> str:
    """First block of the partner's UUID: enough to tell consultations apart in a chat."""
    if partner_id:
        return partner_id.split("-", 1)[0][:8]
    return f"#{local_id}"


def status_name(t: Translator, status: RequestStatus) -> str:
    return t(f"notify-status-{status.value}")


def _when(view: ConsultationView, t: Translator, tz: ZoneInfo, now: datetime | None) -> str:
    if view.begin_at is None:
        return t("notify-when-now")
    return format_local(view.begin_at, tz, t.lang, now=now)


def _duration(view: ConsultationView, t: Translator) -> str:
    if view.duration_min:
        return t("notify-duration", minutes=view.duration_min)
    return t("notify-duration-unbounded")


def _name(value: str | None) -> str:
    return escape(value) if value else "—"


def render(
    notice: Notice,
    view: ConsultationView,
    t: Translator,
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
) -> Rendered:
    """The message for one personal or team notice (not the card: the card has its own)."""
    common = {
        "short_id": view.short_id,
        "doctor": _name(view.doctor_name),
        "patient": _name(view.patient_name),
        "status": status_name(t, notice.status),
    }
    kind = notice.kind
    if kind is NoticeKind.TEAM:
        return Rendered(
            t(
                "notify-team-line",
                short_id=view.short_id,
                status=status_name(t, notice.status),
                doctor=_name(view.doctor_name),
                coordinator=_name(view.coordinator_name),
            )
        )
    if kind is NoticeKind.STARTED:
        return Rendered(t("notify-started", **common))
    if kind is NoticeKind.FINISHED:
        button = InlineKeyboardButton(
            text=t("notify-btn-conclusion"),
            callback_data=ConclusionCallback(cid=view.id).pack(),
        )
        return Rendered(
            t("notify-finished", **common), InlineKeyboardMarkup(inline_keyboard=[[button]])
        )
    if kind is NoticeKind.FAILED:
        if notice.recipient.role.value == "coordinator":
            button = InlineKeyboardButton(
                text=t("notify-btn-again"),
                callback_data=StartAgainCallback(cid=view.id).pack(),
            )
            return Rendered(
                t("notify-failed", **common), InlineKeyboardMarkup(inline_keyboard=[[button]])
            )
        return Rendered(t("notify-doctor-failed", **common))
    if kind is NoticeKind.TERMINATED:
        return Rendered(t("notify-doctor-terminated", **common))
    if kind in (NoticeKind.BOOKED, NoticeKind.DELAYED) and notice.recipient.role.value == (
        "coordinator"
    ):
        # A coordinator in "all" mode: the status change in their own words, not the
        # doctor's "booked with you" / "postponed".
        return Rendered(
            t(
                "notify-coordinator-scheduled",
                when=_when(view, t, tz, now),
                duration=_duration(view, t),
                **common,
            )
        )
    if kind is NoticeKind.BOOKED:
        return Rendered(
            t(
                "notify-doctor-booked",
                when=_when(view, t, tz, now),
                duration=_duration(view, t),
                **common,
            )
        )
    if kind is NoticeKind.DELAYED:
        return Rendered(
            t(
                "notify-doctor-delayed",
                when=_when(view, t, tz, now),
                duration=_duration(view, t),
                **common,
            )
        )
    return Rendered(t("notify-status-changed", **common))


def render_start_failed(
    view: ConsultationView, t: Translator, tz: ZoneInfo, *, now: datetime | None = None
) -> Rendered:
    """Told to the coordinator when an `unknown` start is settled as not created."""
    button = InlineKeyboardButton(
        text=t("notify-btn-again"), callback_data=StartAgainCallback(cid=view.id).pack()
    )
    attempted = view.created_at
    return Rendered(
        t(
            "notify-start-failed",
            patient=_name(view.patient_name),
            doctor=_name(view.doctor_name),
            when=format_local(attempted, tz, t.lang, now=now) if attempted else "—",
        ),
        InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )


def render_start_interrupted(
    view: ConsultationView,
    t: Translator,
    tz: ZoneInfo,
    settles_by: datetime,
    *,
    now: datetime | None = None,
) -> Rendered:
    """Told to the coordinator when a start was cut off by a crash of the bot mid-call:
    whether it was created is being checked, and by when that will be known."""
    return Rendered(
        t(
            "notify-start-interrupted",
            patient=_name(view.patient_name),
            doctor=_name(view.doctor_name),
            by=format_local(settles_by, tz, t.lang, now=now),
        )
    )


def split_message(text: str, limit: int = 4096) -> list[str]:
    """Cut `text` into parts of at most `limit` characters.

    Paragraph breaks are preferred, then line breaks, then spaces; only a single word longer
    than the limit is cut mid-word.
    """
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep, 0, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def render_start_confirmed(view: ConsultationView, t: Translator) -> Rendered:
    """Told to the coordinator when an `unknown` start turns out to have been created."""
    return Rendered(
        t(
            "notify-start-confirmed",
            short_id=view.short_id,
            patient=_name(view.patient_name),
            doctor=_name(view.doctor_name),
        )
    )
