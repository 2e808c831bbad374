"""The report's pure rendering: numbers as each language writes them, the CSV's cells."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.rendering.numbers import amount, integer, money, period_text
from bot.rendering.report_csv import CsvWords, build_csv
from storage.report_rows import CallFigures, ReportRecord


def test_numbers_in_each_language() -> None:
    assert integer(1200, "en") == "1,200"
    assert integer(1200, "ru") == "1\u00a0200"
    assert amount(1234550, "ru") == "12\u00a0345,50"
    assert amount(1234550, "ru", grouping=False) == "12345,50"
    assert money(1234550, "RUB", "ru") == "12\u00a0345,50\u00a0₽"
    assert money(1234550, "RUB", "en") == "12,345.50\u00a0RUB"
    assert money(1250, "USD", "en") == "$12.50"
    assert money(500, "Bonus", "ru") == "5,00\u00a0Bonus"
    assert period_text(date(2026, 5, 1), date(2026, 5, 31), "ru") == "1—31 мая 2026\u202fг."


def test_csv_cells_excel_would_take_for_formulas_are_quoted() -> None:
    at = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    record = ReportRecord(
        id=1,
        partner_id="abcdef12-0000",
        created_at=at,
        doctor_id=1,
        doctor_name="=HYPERLINK()",
        coordinator_id=5,
        external=False,
        closed=True,
        last_status="Processed",
        terminated=False,
        figures=CallFigures(1, 61, True, at, 4000, "RUB"),
        patient_name="@evil",
        patient_phone="+79161234567",
    )
    words = CsvWords(
        headers=[str(i) for i in range(11)],
        patient_headers=["p", "ph"],
        outcomes={
            o: o for o in ("reached", "unsuccessful", "terminated", "in_progress", "missing")
        },
        elsewhere="elsewhere",
    )
    data = build_csv(
        [record],
        lang="en",
        tz=UTC,
        words=words,
        coordinator=lambda uid: "-Coord",
        patient_details=True,
    ).decode("utf-8-sig")
    row = data.splitlines()[1].split(",")
    assert row == [
        "abcdef12",
        "2026-05-04 10:00",
        "2026-05-04 10:00",
        "'=HYPERLINK()",
        "reached",
        "1",
        "2",
        "40.00",
        "RUB",
        "80.00",
        "'-Coord",
        "'@evil",
        "'+79161234567",
    ]
