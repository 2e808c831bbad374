"""The report's CSV: one row per consultation, UTF-8 with a BOM (Excel then reads Cyrillic
right), built in memory.

As Excel expects it in the user's language: Russian uses ``;`` between cells and a decimal
comma, English ``,`` and a decimal point; no digit grouping (cells stay numbers). Times are
local (``dd.mm.yyyy HH:MM`` / ``yyyy-mm-dd HH:MM``) in the user's zone, named in the header.
Patient name and phone only when ``patient_details`` (the caller checked the right); a text
cell that Excel would take for a formula (``= + - @``) is prefixed with ``'``.
Called in a worker thread: never on the event loop.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.rendering.numbers import amount
from bot.reports.figures import billed_minutes, cost_cents, doctor_label, outcome_of
from storage.report_rows import ReportRecord

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class CsvWords:
    """The worded parts: headers (in column order), outcome names, "started elsewhere"."""

    headers: Sequence[str]
    patient_headers: Sequence[str]  # name, phone
    outcomes: dict[str, str]
    elsewhere: str


def short_id(record: ReportRecord) -> str:
    return record.partner_id.split("-", 1)[0][:8]


def build_csv(
    records: Sequence[ReportRecord],
    *,
    lang: str,
    tz: tzinfo,
    words: CsvWords,
    coordinator: Callable[[int], str],
    patient_details: bool = False,
) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";" if lang == "ru" else ",", lineterminator="\r\n")
    writer.writerow([*words.headers, *(words.patient_headers if patient_details else ())])
    stamp = "%d.%m.%Y %H:%M" if lang == "ru" else "%Y-%m-%d %H:%M"

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime(stamp) if moment is not None else ""

    for record in records:
        figures = record.figures
        price = figures.cost_per_minute_cents if figures is not None else None
        cost = cost_cents(figures) if figures is not None else None
        if record.external:
            who = words.elsewhere
        elif record.coordinator_id is not None:
            who = coordinator(record.coordinator_id)
        else:
            who = ""
        row = [
            short_id(record),
            when(record.created_at),
            when(figures.first_call_at if figures is not None else None),
            _text(doctor_label(record)),
            words.outcomes[outcome_of(record).value],
            str(figures.calls) if figures is not None else "",
            str(billed_minutes(figures)) if figures is not None else "",
            amount(price, lang, grouping=False) if price is not None else "",
            (figures.currency or "") if figures is not None else "",
            amount(cost, lang, grouping=False) if cost is not None else "",
            _text(who),
        ]
        if patient_details:
            row += [_text(record.patient_name or ""), _text(record.patient_phone or "")]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value
