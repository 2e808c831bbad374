"""Plain values of /report (issue 15): what a look at the partner stores about a
consultation's calls and cost, and one consultation as a report reads it.

No SQL here: the repository (``storage/repositories/consultations_figures.py``) fills them,
and the report's pure parts (``bot/reports``, the rendering) read them without depending on
the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallFigures:
    """A look's calls and price: what the report needs, nothing of the patient."""

    calls: int
    talk_seconds: int  # the successful calls' durations
    reached: bool  # a successful call: the patient was on the line
    first_call_at: datetime | None
    cost_per_minute_cents: int | None  # hundredths of `currency`; None: not given
    currency: str | None


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """One consultation of a report's period. ``figures`` None: never stored (data missing).

    ``patient_name``/``patient_phone`` are read only for "Include patient details"; they are
    None otherwise (and after the retention purge)."""

    id: int
    partner_id: str
    created_at: datetime
    doctor_id: int | None
    doctor_name: str | None
    coordinator_id: int | None
    external: bool  # started outside the bot
    closed: bool  # final (or failed) in the bot's view
    last_status: str | None
    terminated: bool
    figures: CallFigures | None
    patient_name: str | None = None
    patient_phone: str | None = None

    def __repr__(self) -> str:  # never shows patient data
        return f"ReportRecord(id={self.id}, partner_id={self.partner_id})"
