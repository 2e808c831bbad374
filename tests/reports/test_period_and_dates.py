"""The report's periods (presets at the calendar's edges, local midnights in UTC) and the
typed dates parser."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.input_parsing import InputError
from bot.input_parsing.date_range import parse_date_range
from bot.reports.period import Period, Preset, preset
from tests.fixed_days import FIRST_OF_MONTH, LEAP_DAY, MSK, NEW_YEAR_EVE

NSK = ZoneInfo("Asia/Novosibirsk")


@pytest.mark.parametrize(
    ("now", "kind", "first", "last"),
    [
        # Monday 1 June 2026, 01:30 Moscow (still 31 May in UTC).
        (FIRST_OF_MONTH, Preset.THIS_WEEK, date(2026, 6, 1), date(2026, 6, 7)),
        (FIRST_OF_MONTH, Preset.LAST_WEEK, date(2026, 5, 25), date(2026, 5, 31)),
        (FIRST_OF_MONTH, Preset.THIS_MONTH, date(2026, 6, 1), date(2026, 6, 30)),
        (FIRST_OF_MONTH, Preset.LAST_MONTH, date(2026, 5, 1), date(2026, 5, 31)),
        # Thursday 31 December 2026, 23:50 Moscow.
        (NEW_YEAR_EVE, Preset.THIS_WEEK, date(2026, 12, 28), date(2027, 1, 3)),
        (NEW_YEAR_EVE, Preset.THIS_MONTH, date(2026, 12, 1), date(2026, 12, 31)),
        (NEW_YEAR_EVE, Preset.LAST_MONTH, date(2026, 11, 1), date(2026, 11, 30)),
        # Tuesday 29 February 2028.
        (LEAP_DAY, Preset.THIS_MONTH, date(2028, 2, 1), date(2028, 2, 29)),
        (LEAP_DAY, Preset.LAST_MONTH, date(2028, 1, 1), date(2028, 1, 31)),
        (LEAP_DAY, Preset.LAST_WEEK, date(2028, 2, 21), date(2028, 2, 27)),
    ],
)
def test_presets(now: datetime, kind: Preset, first: date, last: date) -> None:
    assert preset(kind, now, MSK) == Period(first, last)


def test_new_year_eve_is_already_next_year_in_novosibirsk() -> None:
    assert preset(Preset.THIS_MONTH, NEW_YEAR_EVE, NSK) == Period(
        date(2027, 1, 1), date(2027, 1, 31)
    )


def test_bounds_are_local_midnights() -> None:
    start, end = Period(date(2026, 5, 1), date(2026, 5, 31)).utc_bounds(MSK)
    assert start == datetime(2026, 4, 30, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 5, 31, 21, 0, tzinfo=UTC)


def test_key_round_trip_and_refusals() -> None:
    period = Period(date(2025, 12, 20), date(2026, 1, 10))
    assert period.key() == "20251220-20260110"
    assert Period.from_key(period.key()) == period
    for bad in (
        "",
        "2026",
        "20260531-20260501",
        "2026013x-20260201",
        "20260230-20260301",
        "19000101-29991231",
    ):
        with pytest.raises(ValueError):
            Period.from_key(bad)


NOW = datetime(2026, 6, 10, 12, 0, tzinfo=MSK)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("01.05.2026 31.05.2026", date(2026, 5, 1), date(2026, 5, 31)),
        ("1.5.26 - 31.5.26", date(2026, 5, 1), date(2026, 5, 31)),
        ("2026-05-01 — 2026-05-31", date(2026, 5, 1), date(2026, 5, 31)),
        ("с 01.05 по 31.05", date(2026, 5, 1), date(2026, 5, 31)),
        ("from 01.05 to 31.05", date(2026, 5, 1), date(2026, 5, 31)),
        ("15.05", date(2026, 5, 15), date(2026, 5, 15)),
        # Without years: the first is the latest such day not after today, the second the
        # earliest on or after the first.
        ("20.12 10.01", date(2025, 12, 20), date(2026, 1, 10)),
        ("01.06 30.06", date(2026, 6, 1), date(2026, 6, 30)),  # may end after today
        ("29.02 01.03", date(2024, 2, 29), date(2024, 3, 1)),
    ],
)
def test_typed_ranges(text: str, first: date, last: date) -> None:
    assert parse_date_range(text, MSK, NOW) == Period(first, last)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31.05.2026 01.05.2026", "report-dates-error-inverted"),
        ("01.07.2026 10.07.2026", "report-dates-error-future"),
        ("11.06.2026", "report-dates-error-future"),
        ("32.05.2026 01.06.2026", "report-dates-error-bad-date"),
        ("30.02", "report-dates-error-bad-date"),
        ("01.01.2025 31.12.2026", "report-dates-error-too-long"),
        ("hello", "report-dates-error-not-understood"),
        ("", "report-dates-error-not-understood"),
        ("01.05 02.05 03.05", "report-dates-error-not-understood"),
    ],
)
def test_typed_mistakes(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_date_range(text, MSK, NOW)
    assert caught.value.reason == reason


def test_today_is_the_users_today() -> None:
    """23:30 on 10 June in Moscow is already 11 June in Novosibirsk."""
    late = datetime(2026, 6, 10, 23, 30, tzinfo=MSK)
    assert parse_date_range("11.06.2026", NSK, late) == Period(date(2026, 6, 11), date(2026, 6, 11))
    with pytest.raises(InputError):
        parse_date_range("11.06.2026", MSK, late)
