"""/report's texts and keyboards (issue 15), and the worded inputs of its chart and CSV.

Pure: plain values in (the period, a ``Summary`` of bot/reports/figures.py, the user's
language and zone), text and markup out. Numbers, money and dates are formatted for the
language (bot/rendering/numbers.py); counts go to Fluent as numbers (plural forms).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import ReportAction, ReportCb
from bot.i18n import Translator
from bot.rendering.numbers import day_label, day_text, money, period_text
from bot.rendering.report_chart import ChartInput, DoctorBar
from bot.rendering.report_csv import CsvWords
from bot.rendering.time import zone_label
from bot.reports.figures import OUTCOMES, Outcome, Summary
from bot.reports.period import Period, Preset

# Spend per doctor: the largest ones; the chart stays readable.
MAX_DOCTOR_BARS = 12
CSV_COLUMNS = (
    "id",
    "created",
    "start",
    "doctor",
    "outcome",
    "calls",
    "minutes",
    "cost-per-minute",
    "currency",
    "cost",
    "coordinator",
)


def period_keyboard(t: Translator) -> InlineKeyboardMarkup:
    def button(key: str, action: ReportAction, arg: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(text=t(key), callback_data=ReportCb(a=action, arg=arg).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("report-period-this-week", ReportAction.PRESET, Preset.THIS_WEEK),
                button("report-period-last-week", ReportAction.PRESET, Preset.LAST_WEEK),
            ],
            [
                button("report-period-this-month", ReportAction.PRESET, Preset.THIS_MONTH),
                button("report-period-last-month", ReportAction.PRESET, Preset.LAST_MONTH),
            ],
            [button("report-period-dates", ReportAction.DATES)],
        ]
    )


def ask_text(t: Translator, *, own_only: bool) -> str:
    text = t("report-ask")
    return f"{text}\n{t('report-scope-doctor')}" if own_only else text


def dates_prompt(t: Translator, tz: tzinfo, now: datetime) -> str:
    return t("report-dates-ask", zone=zone_label(tz, t.lang, now))


def input_error_text(t: Translator, reason: str, args: dict[str, object]) -> str:
    """A typed range that does not fit (bot/input_parsing/date_range.py), dates worded."""
    worded = {k: day_text(v, t.lang) if isinstance(v, date) else v for k, v in args.items()}
    return f"{t(reason, **worded)}\n{t('report-dates-example')}"


def title(t: Translator, period: Period, tz: tzinfo) -> str:
    start, _ = period.utc_bounds(tz)
    return t(
        "report-title",
        period=period_text(period.first, period.last, t.lang),
        zone=zone_label(tz, t.lang, start),
    )


def progress_text(
    t: Translator, period: Period, tz: tzinfo, count: int, *, done: int = 0, total: int = 0
) -> str:
    """ "Counting 1,200 consultations…", and how far the refresh from the partner is."""
    lines = [title(t, period, tz), t("report-counting", count=count)]
    if total:
        lines.append(t("report-refreshing", done=done, total=total))
    return "\n".join(lines)


def totals_text(
    t: Translator,
    summary: Summary,
    period: Period,
    tz: tzinfo,
    *,
    own_only: bool,
    not_refreshed: int = 0,
) -> str:
    lines = [title(t, period, tz)]
    if own_only:
        lines.append(t("report-scope-doctor"))
    if not summary.started:
        lines.append(t("report-empty"))
        return "\n".join(lines)
    lines.append(t("report-started", count=summary.started))
    for outcome in OUTCOMES:
        count = summary.count(outcome)
        if count or outcome in (Outcome.REACHED, Outcome.UNSUCCESSFUL, Outcome.TERMINATED):
            lines.append("  • " + t(f"report-line-{outcome.value}", count=count))
    lines.append(t("report-minutes", minutes=summary.minutes))
    if summary.spend:
        amounts = ", ".join(money(c, cur, t.lang) for cur, c in summary.spend.items())
        lines.append(t("report-spend", amounts=amounts))
    else:
        lines.append(t("report-spend-none"))
    if summary.unpriced:
        lines.append(t("report-unpriced", count=summary.unpriced))
    if summary.count(Outcome.MISSING):
        lines.append(t("report-missing-note"))
    if not_refreshed:
        lines.append(t("report-stale", count=not_refreshed))
    return "\n".join(lines)


def totals_keyboard(t: Translator, period: Period, *, details: bool) -> InlineKeyboardMarkup | None:
    """ "Include patient details" (a courtesy for those who may: the press is checked)."""
    if not details:
        return None
    data = ReportCb(a=ReportAction.DETAILS, arg=period.key()).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t("report-details"), callback_data=data)]]
    )


def chart_input(t: Translator, summary: Summary, period: Period, tz: tzinfo) -> ChartInput:
    days = sorted(summary.per_day)
    series = {
        o.value: (t(f"report-outcome-{o.value}"), [summary.per_day[d].get(o, 0) for d in days])
        for o in OUTCOMES
    }
    # Amounts of different currencies are not comparable: each bar's length is relative to
    # the largest of its own currency, and its label says the amount.
    top: dict[str, int] = {}
    for (_, currency), cents in summary.per_doctor.items():
        top[currency] = max(top.get(currency, 0), cents)
    several = len(top) > 1
    doctors = [
        DoctorBar(
            label=_short(name) + (f" · {currency}" if several else ""),
            value=cents / top[currency] if top[currency] else 0.0,
            text=money(cents, currency, t.lang),
        )
        for (name, currency), cents in list(summary.per_doctor.items())[:MAX_DOCTOR_BARS]
    ]
    start, _ = period.utc_bounds(tz)
    return ChartInput(
        title=t(
            "report-chart-title",
            period=period_text(period.first, period.last, t.lang),
            zone=zone_label(tz, t.lang, start),
        ),
        per_day_title=t("report-chart-per-day"),
        per_doctor_title=t("report-chart-per-doctor"),
        no_spend=t("report-chart-no-spend"),
        day_labels=[day_label(d, t.lang) for d in days],
        series=series,
        doctors=doctors,
    )


def csv_words(t: Translator, tz: tzinfo, at: datetime) -> CsvWords:
    zone = zone_label(tz, t.lang, at)
    return CsvWords(
        headers=[t(f"report-csv-{c}", zone=zone) for c in CSV_COLUMNS],
        patient_headers=[t("report-csv-patient"), t("report-csv-phone")],
        outcomes={o.value: t(f"report-outcome-{o.value}") for o in OUTCOMES},
        elsewhere=t("report-csv-elsewhere"),
    )


def file_name(period: Period, extension: str, *, patient_details: bool = False) -> str:
    """``report-2026-05-01_2026-05-31.csv`` (``-patients`` with patient details)."""
    suffix = "-patients" if patient_details else ""
    return f"report-{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}{suffix}.{extension}"


def _short(name: str, limit: int = 32) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
