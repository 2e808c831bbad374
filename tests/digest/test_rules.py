"""The digest's pure rules: who gets it by default, when it is due (in the reader's zone,
at most LATE_LIMIT late), what "next" says, and the typed time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.input_parsing.clock_time import parse_clock_time
from bot.input_parsing.errors import InputError
from bot.services.digest_settings import (
    LATE_LIMIT,
    DigestChoice,
    digest_choice,
    due_at,
    is_due,
    next_day,
)
from storage.enums import Role
from tests.fixed_days import FIXED_TODAYS, MSK

NSK = ZoneInfo("Asia/Novosibirsk")  # UTC+7
NINE = time(9, 0)


@pytest.mark.parametrize(
    ("stored", "role", "expected"),
    [
        (None, Role.COORDINATOR, DigestChoice(NINE, True)),
        (None, Role.ADMIN, DigestChoice(NINE, True)),
        (None, Role.DOCTOR, DigestChoice(None, True)),
        (None, None, DigestChoice(None, True)),  # no access: nothing, whatever was stored
        ("07:30", None, DigestChoice(None, False)),
        ("07:30", Role.DOCTOR, DigestChoice(time(7, 30), False)),
        ("off", Role.COORDINATOR, DigestChoice(None, False)),
        ("9:5", Role.COORDINATOR, DigestChoice(NINE, True)),  # unreadable: the default
    ],
)
def test_choice_and_role_defaults(
    stored: str | None, role: Role | None, expected: DigestChoice
) -> None:
    assert digest_choice(stored, role) == expected


@pytest.mark.parametrize("moment", FIXED_TODAYS)
def test_due_from_the_local_time_for_late_limit(moment: datetime) -> None:
    day = moment.date()
    nine_msk = datetime.combine(day, NINE, tzinfo=MSK)
    assert is_due(NINE, None, nine_msk - timedelta(seconds=1), MSK) is None  # not before
    assert is_due(NINE, None, nine_msk, MSK) == day
    assert is_due(NINE, None, nine_msk + LATE_LIMIT, MSK) == day  # a restart at 12:00
    assert is_due(NINE, None, nine_msk + LATE_LIMIT + timedelta(minutes=1), MSK) is None
    assert is_due(NINE, day, nine_msk + timedelta(minutes=5), MSK) is None  # settled
    assert is_due(NINE, day - timedelta(days=1), nine_msk, MSK) == day
    # The same instant is 13:00 in Novosibirsk: its 09:00 came four hours ago.
    assert is_due(NINE, None, nine_msk, NSK) is None
    nine_nsk = datetime.combine(day, NINE, tzinfo=NSK)
    assert is_due(NINE, None, nine_nsk, NSK) == day


def test_local_date_not_utc_date() -> None:
    """00:30 on 1 January in Moscow is still 31 December in UTC: the digest is the 1st's."""
    at = time(0, 30)
    now = datetime(2027, 1, 1, 0, 30, tzinfo=MSK)
    assert now.astimezone(UTC).date() == date(2026, 12, 31)
    assert is_due(at, date(2026, 12, 31), now, MSK) == date(2027, 1, 1)


def test_due_at_across_a_dst_gap() -> None:
    """02:30 does not exist on 29 March 2026 in Berlin: it comes an hour later than the
    02:30 of the day before (the offset before the change), not never."""
    berlin = ZoneInfo("Europe/Berlin")
    gap = due_at(date(2026, 3, 29), time(2, 30), berlin)
    assert gap == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert is_due(time(2, 30), None, gap, berlin) == date(2026, 3, 29)


def test_next_day_today_or_tomorrow() -> None:
    day = date(2026, 6, 1)
    eight = datetime.combine(day, time(8, 0), tzinfo=MSK)
    nine = DigestChoice(NINE, False)
    assert next_day(nine, None, eight, MSK) == day
    assert next_day(nine, day, eight, MSK) == day + timedelta(days=1)  # already had it
    assert next_day(nine, None, eight + timedelta(hours=5), MSK) == day + timedelta(days=1)
    assert next_day(DigestChoice(None, False), None, eight, MSK) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("08:30", time(8, 30)),
        ("8:30", time(8, 30)),
        (" 7.45 ", time(7, 45)),
        ("0930", time(9, 30)),
        ("9", time(9, 0)),
        ("23:59", time(23, 59)),
        ("00:00", time(0, 0)),
    ],
)
def test_typed_times(typed: str, expected: time) -> None:
    assert parse_clock_time(typed) == expected


@pytest.mark.parametrize("typed", ["24:00", "9:60", "9:5", "nine", "", "09:00:00", "-1", "930"])
def test_bad_typed_times(typed: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_clock_time(typed)
    assert raised.value.reason == "digest-time-bad"
