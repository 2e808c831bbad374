"""The README's sample chart, drawn from the seeded month of tests/reports/seed.py by the
production code (bot/rendering/report.py → report_chart.py), in English:

    .venv/bin/python -m tests.reports.sample_chart [docs/report-chart.png]

No database or sandbox: the specs become the records a report would read.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from api_client.sandbox.seed import build_doctors, doctor_full_name
from bot.i18n import I18n
from bot.rendering.report import chart_input
from bot.rendering.report_chart import draw_chart
from bot.reports.figures import summarize
from bot.reports.period import Period
from storage.report_rows import CallFigures, ReportRecord
from tests.reports import seed

ROOT = Path(__file__).resolve().parents[2]


def records() -> list[ReportRecord]:
    names = {i: doctor_full_name(d) for i, d in build_doctors().items()}
    out = []
    for spec in seed.month_specs():
        if not seed.in_may(spec):
            continue
        cents, currency = seed.price(spec.doctor_id)
        figures = None
        if spec.kind != "missing":
            figures = CallFigures(
                calls=spec.calls,
                talk_seconds=sum(spec.talk),
                reached=bool(spec.talk),
                first_call_at=spec.created + timedelta(minutes=2) if spec.calls else None,
                cost_per_minute_cents=cents,
                currency=currency,
            )
        out.append(
            ReportRecord(
                id=spec.n,
                partner_id=f"{spec.n:08d}",
                created_at=spec.created,
                doctor_id=spec.doctor_id,
                doctor_name=names[spec.doctor_id],
                coordinator_id=spec.coordinator_id,
                external=spec.external,
                closed=spec.kind != "in_progress",
                last_status="Processing" if spec.kind == "in_progress" else "Processed",
                terminated=spec.kind == "terminated",
                figures=figures,
            )
        )
    return out


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else ROOT / "docs" / "report-chart.png"
    period = Period(date(2026, 5, 1), date(2026, 5, 31))
    summary = summarize(records(), seed.MSK, period.days)
    png = draw_chart(chart_input(I18n().translator("en"), summary, period, seed.MSK))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(png)
    print(f"{target}: {len(png):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
