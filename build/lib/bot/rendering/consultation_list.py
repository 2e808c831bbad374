"""Lists of consultations: pure text builders (no Telegram, no database, no API).

A row: a status-group mark, patient name and masked phone (the full phone is only on the
card), doctor, start time with its zone, and "started elsewhere" for consultations the bot
did not start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape

from bot.i18n import Translator
from bot.input_parsing.phone import mask_phone
from bot.rendering.time import format_local

PAGE_SIZE = 8

# Filter → the partner's status ids (None: every status).
FILTER_STATUSES: dict[str, tuple[str, ...] | None] = {
    "act": ("Registered", "PreProcessing", "Delayed", "Processing", "PostProcessing"),
    "sch": ("Delayed",),
    "fin": ("Processed", "Unsuccessful"),
    "all": None,
    "mine": None,
    "find": None,
}

# One mark per status group: waiting, scheduled, in progress, done, did not take place.
_MARKS: dict[str, str] = {
    "Registered": "🟡",
    "PreProcessing": "🟡",
    "Delayed": "🗓",
    "Processing": "📞",
    "PostProcessing": "📞",
    "Processed": "✅",
    "Unsuccessful": "❌",
}
UNKNOWN_MARK = "❔"
_BUTTON_NAME_MAX = 28


def statuses_for(filter_value: str) -> tuple[str, ...] | None:
    return FILTER_STATUSES.get(filter_value)


def status_mark(status: str | None) -> str:
    return _MARKS.get(status or "", UNKNOWN_MARK)


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    """At least one page, so an empty list still reads "page 1 of 1"."""
    return max(1, -(-max(total, 0) // page_size))


def clamp_page(page: int, total: int, page_size: int = PAGE_SIZE) -> int:
    return min(max(page, 0), page_count(total, page_size) - 1)


@dataclass(frozen=True, slots=True)
class ListRow:
    cid: int  # local consultation id (what the row's button opens)
    status: str | None
    patient_name: str | None
    patient_phone: str | None  # E.164
    doctor_name: str | None
    start_at: datetime | None  # scheduled start, or creation time
    external: bool = False  # started outside the bot


def _patient(row: ListRow, t: Translator) -> str:
    name = escape(row.patient_name) if row.patient_name else t("list-patient-unknown")
    if row.patient_phone:
        return f"{name} {mask_phone(row.patient_phone)}"
    return name


def row_text(
    row: ListRow, index: int, t: Translator, tz: tzinfo, *, now: datetime | None = None
) -> str:
    parts = [f"{index}. {status_mark(row.status)} {_patient(row, t)}"]
    parts.append(escape(row.doctor_name) if row.doctor_name else t("list-doctor-unknown"))
    if row.start_at is not None:
        parts.append(format_local(row.start_at, tz, t.lang, now=now))
    text = " · ".join(parts)
    if row.external:
        text += f" · <i>{t('list-started-elsewhere')}</i>"
    return text


def row_button(row: ListRow, index: int, t: Translator) -> str:
    """Button text: number, mark and a short patient name (no phone on buttons)."""
    name = row.patient_name or t("list-patient-unknown")
    if len(name) > _BUTTON_NAME_MAX:
        name = name[: _BUTTON_NAME_MAX - 1] + "…"
    return f"{index}. {status_mark(row.status)} {name}"


def page_text(
    rows: Sequence[ListRow],
    t: Translator,
    tz: tzinfo,
    *,
    filter_value: str,
    page: int,
    total: int,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
    can_start: bool = True,
    note: str | None = None,
) -> str:
    """The whole list message: title, rows (numbered across pages), position, total."""
    title = t("list-title", filter=t(f"list-filter-name-{filter_value}"))
    lines = [f"<b>{title}</b>"]
    if note:
        lines.append(note)
    if not rows:
        lines.append("")
        lines.append(t("list-empty"))
        if can_start:
            lines.append(t("list-empty-start"))
        return "\n".join(lines)
    lines.append("")
    first = page * page_size + 1
    lines.extend(row_text(r, first + i, t, tz, now=now) for i, r in enumerate(rows))
    lines.append("")
    lines.append(t("list-position", page=page + 1, pages=page_count(total, page_size), total=total))
    return "\n".join(lines)
