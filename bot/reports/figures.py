"""Outcomes, minutes, cost and totals of a report, from stored records.

Definitions (README, "Reports"):

* **reached the patient**: the consultation has a successful call (the service phones the
  patient and connects the doctor: a successful call is a conversation with the patient,
  whichever party the partner names as its ``actor``);
* **unsuccessful**: final without a successful call and not terminated (the patient did
  not answer, or the call failed);
* **terminated**: final, ended by a terminate (ours, or the partner's timeline says so)
  before any successful call;
* **in progress**: not final yet, no successful call so far;
* **data missing**: no look at the partner has stored its calls yet — never guessed.

Minutes are billed per started minute of the talk (``ceil(seconds / 60)``), as the partner
charges; cost = minutes × the doctor's cost per minute, in its currency. A consultation
that talked but whose price was not given is counted in ``unpriced`` rather than as free.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from api_client.models import Callback
from storage.enums import FINAL_STATUSES
from storage.report_rows import CallFigures, ReportRecord


class Outcome(enum.StrEnum):
    REACHED = "reached"
    UNSUCCESSFUL = "unsuccessful"
    TERMINATED = "terminated"
    IN_PROGRESS = "in_progress"
    MISSING = "missing"


# The chart's stacking order, bottom up.
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)


def figures_of(callback: Callback) -> CallFigures | None:
    """What a look says about the calls and the price; None when the answer carried no
    ``calls`` at all (e.g. the answer made up right after a terminate), so that stored
    figures are not overwritten by an absence."""
    if "calls" not in callback.model_fields_set:
        return None
    successful = [c for c in callback.calls if c.successful]
    starts = [c.started_at_utc for c in callback.calls if c.started_at_utc is not None]
    price = callback.cost_per_minute
    cents = None
    currency = None
    if price is not None and price.amount is not None:
        cents = int((price.amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        currency = (price.currency.id if price.currency is not None else None) or None
    return CallFigures(
        calls=len(callback.calls),
        talk_seconds=sum(max(c.duration or 0, 0) for c in successful),
        reached=bool(successful),
        first_call_at=min(starts) if starts else None,
        cost_per_minute_cents=cents,
        currency=currency,
    )


def is_final(record: ReportRecord) -> bool:
    return record.closed or record.last_status in FINAL_STATUSES


def outcome_of(record: ReportRecord) -> Outcome:
    figures = record.figures
    if figures is None:
        return Outcome.MISSING
    if figures.reached:
        return Outcome.REACHED
    if not is_final(record):
        return Outcome.IN_PROGRESS
    if record.terminated:
        return Outcome.TERMINATED
    return Outcome.UNSUCCESSFUL


def billed_minutes(figures: CallFigures | None) -> int:
    """Whole minutes, each started minute counted (what the partner bills)."""
    if figures is None or figures.talk_seconds <= 0:
        return 0
    return -(-figures.talk_seconds // 60)


def cost_cents(figures: CallFigures | None) -> int | None:
    """Hundredths of the currency; 0 without talk; None when talked but not priced."""
    minutes = billed_minutes(figures)
    if minutes == 0:
        return 0
    assert figures is not None  # minutes > 0
    if figures.cost_per_minute_cents is None or not figures.currency:
        return None
    return minutes * figures.cost_per_minute_cents


def money(cents: int) -> Decimal:
    return Decimal(cents) / 100


@dataclass
class Summary:
    """Everything the message and the chart show, for one period (in one zone)."""

    started: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    minutes: int = 0
    unpriced: int = 0  # talked, but no cost per minute was given
    spend: dict[str, int] = field(default_factory=dict)  # currency → cents
    # Local day → outcome → consultations created that day.
    per_day: dict[date, Counter[Outcome]] = field(default_factory=dict)
    # (doctor label, currency) → cents
    per_doctor: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        return self.outcomes.get(outcome, 0)


def doctor_label(record: ReportRecord) -> str:
    if record.doctor_name:
        return record.doctor_name
    return f"#{record.doctor_id}" if record.doctor_id is not None else "—"


def summarize(records: list[ReportRecord], tz: tzinfo, days: list[date]) -> Summary:
    """Totals of ``records``; ``days`` (the period's local days) all appear in ``per_day``,
    empty ones included, so the chart's axis is the whole period."""
    summary = Summary(per_day={day: Counter() for day in days})
    spend: defaultdict[str, int] = defaultdict(int)
    per_doctor: defaultdict[tuple[str, str], int] = defaultdict(int)
    for record in records:
        outcome = outcome_of(record)
        summary.started += 1
        summary.outcomes[outcome] += 1
        day = local_day(record.created_at, tz)
        summary.per_day.setdefault(day, Counter())[outcome] += 1
        summary.minutes += billed_minutes(record.figures)
        cents = cost_cents(record.figures)
        if cents is None:
            summary.unpriced += 1
        elif cents and record.figures is not None and record.figures.currency:
            spend[record.figures.currency] += cents
            per_doctor[(doctor_label(record), record.figures.currency)] += cents
    summary.spend = dict(sorted(spend.items(), key=lambda kv: (-kv[1], kv[0])))
    summary.per_doctor = dict(sorted(per_doctor.items(), key=lambda kv: (-kv[1], kv[0])))
    return summary


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()
