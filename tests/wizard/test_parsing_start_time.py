from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.input_parsing import InputError
from bot.input_parsing.start_time import (
    QuickStart,
    check_start_time,
    local_to_utc,
    parse_start_time,
    quick_start,
)
from tests.fixed_days import FIXED_TODAYS

MSK = ZoneInfo("Europe/Moscow")  # UTC+3
NSK = ZoneInfo("Asia/Novosibirsk")  # UTC+7
BERLIN = ZoneInfo("Europe/Berlin")  # DST
# 27.11.2026 09:00:20 UTC = 12:00 in Moscow, 16:00 in Novosibirsk.
NOW = datetime(2026, 11, 27, 9, 0, 20, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "msk", "nsk"),
    [
        ("18:30", utc(2026, 11, 27, 15, 30), utc(2026, 11, 27, 11, 30)),
        ("28.11 15:30", utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 8, 30)),
        ("28.11.2026 15:30", utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 8, 30)),
        ("28.11.26 15:30", utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 8, 30)),
        ("2026-11-28 15:30", utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 8, 30)),
        ("15:30 28.11", utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 8, 30)),
        ("завтра 10:00", utc(2026, 11, 28, 7, 0), utc(2026, 11, 28, 3, 0)),
        ("Завтра в 10:00", utc(2026, 11, 28, 7, 0), utc(2026, 11, 28, 3, 0)),
        ("tomorrow 10:00", utc(2026, 11, 28, 7, 0), utc(2026, 11, 28, 3, 0)),
        ("tomorrow at 9:05", utc(2026, 11, 28, 6, 5), utc(2026, 11, 28, 2, 5)),
        ("сегодня 23:59", utc(2026, 11, 27, 20, 59), utc(2026, 11, 27, 16, 59)),
        ("послезавтра 00:00", utc(2026, 11, 28, 21, 0), utc(2026, 11, 28, 17, 0)),
    ],
)
def test_typed_in_two_zones(text: str, msk: datetime, nsk: datetime) -> None:
    assert parse_start_time(text, MSK, NOW) == msk
    assert parse_start_time(text, NSK, NOW) == nsk


def test_results_are_aware_utc() -> None:
    result = parse_start_time("18:30", MSK, NOW)
    assert result is not None and result.tzinfo is UTC


def test_same_time_means_different_instants_per_zone() -> None:
    # 17:00 is still ahead in Novosibirsk (16:00 now) and in Moscow (12:00 now).
    assert parse_start_time("17:00", NSK, NOW) == utc(2026, 11, 27, 10, 0)
    assert parse_start_time("17:00", MSK, NOW) == utc(2026, 11, 27, 14, 0)
    # 13:00 has passed in Novosibirsk but not in Moscow.
    assert parse_start_time("13:00", MSK, NOW) == utc(2026, 11, 27, 10, 0)
    with pytest.raises(InputError) as info:
        parse_start_time("13:00", NSK, NOW)
    assert info.value.reason == "wizard-time-error-past-today"
    assert info.value.args_ == {"time": "13:00"}


@pytest.mark.parametrize("text", ["11:00", "сегодня 11:59", "today 00:00", "11:59"])
def test_past_today_is_refused_not_rolled(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_start_time(text, MSK, NOW)
    assert info.value.reason == "wizard-time-error-past-today"


def test_current_minute_means_now() -> None:
    assert parse_start_time("12:00", MSK, NOW) is None
    assert parse_start_time("16:00", NSK, NOW) is None


@pytest.mark.parametrize("text", ["сейчас", "Now", "сразу"])
def test_now_words(text: str) -> None:
    assert parse_start_time(text, MSK, NOW) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "wizard-time-error-empty"),
        ("когда-нибудь", "wizard-time-error-not-understood"),
        ("25:00", "wizard-time-error-not-understood"),
        ("12:60", "wizard-time-error-not-understood"),
        ("15:30 please", "wizard-time-error-not-understood"),
        ("завтра", "wizard-time-error-no-time"),
        ("28.11", "wizard-time-error-no-time"),
        ("31.02 10:00", "wizard-time-error-bad-date"),
        ("2026-13-01 10:00", "wizard-time-error-bad-date"),
        ("26.11.2026 15:00", "wizard-time-error-past"),
        ("2025-11-28 15:30", "wizard-time-error-past"),
        ("28.02.2027 10:00", "wizard-time-error-too-far"),
        ("через 90 дней", "wizard-time-error-not-understood"),
        ("через 2000 ч", "wizard-time-error-too-far"),
    ],
)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_start_time(text, MSK, NOW)
    assert info.value.reason == reason


def test_too_far_reports_limit() -> None:
    with pytest.raises(InputError) as info:
        parse_start_time("2027-01-27 10:00", MSK, NOW, max_days=30)
    assert info.value.args_ == {"max_days": 30}
    assert parse_start_time("2027-01-20 10:00", MSK, NOW) == utc(2027, 1, 20, 7, 0)


def test_date_without_year_rolls_over_new_year() -> None:
    december = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
    assert parse_start_time("05.01 10:00", MSK, december) == utc(2027, 1, 5, 7, 0)
    # A date that passed this year and is too far next year is "past", not "too far".
    with pytest.raises(InputError) as info:
        parse_start_time("20.12 10:00", MSK, december)
    assert info.value.reason == "wizard-time-error-past"


def test_relative() -> None:
    assert parse_start_time("через 20 мин", MSK, NOW) == utc(2026, 11, 27, 9, 21)
    assert parse_start_time("in 2 h", NSK, NOW) == utc(2026, 11, 27, 11, 1)


def test_today_uses_local_date_not_utc_date() -> None:
    # 23:30 UTC on the 27th is already the 28th in Novosibirsk (06:30).
    late = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert parse_start_time("10:00", NSK, late) == utc(2026, 11, 28, 3, 0)
    assert parse_start_time("завтра 10:00", NSK, late) == utc(2026, 11, 29, 3, 0)
    assert parse_start_time("10:00", MSK, late) == utc(2026, 11, 28, 7, 0)  # 02:30 MSK now


class TestDst:
    # Europe/Berlin: 29.03.2026 02:00 → 03:00 (gap), 25.10.2026 03:00 → 02:00 (repeat).
    def test_gap_refused(self) -> None:
        now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
        with pytest.raises(InputError) as info:
            parse_start_time("29.03 02:30", BERLIN, now)
        assert info.value.reason == "wizard-time-error-nonexistent"
        assert info.value.args_ == {"time": "02:30"}

    def test_offsets_either_side_of_the_switch(self) -> None:
        now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
        assert parse_start_time("29.03 01:30", BERLIN, now) == utc(2026, 3, 29, 0, 30)
        assert parse_start_time("29.03 03:30", BERLIN, now) == utc(2026, 3, 29, 1, 30)

    def test_repeated_hour_takes_first(self) -> None:
        now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
        assert parse_start_time("25.10 02:30", BERLIN, now) == utc(2026, 10, 25, 0, 30)

    def test_tomorrow_nine_across_switch(self) -> None:
        # Saturday 28.03 at 20:00 CET; Sunday 09:00 is CEST (UTC+2).
        now = datetime(2026, 3, 28, 19, 0, tzinfo=UTC)
        assert quick_start(QuickStart.TOMORROW_9, BERLIN, now) == utc(2026, 3, 29, 7, 0)
        assert parse_start_time("завтра 09:00", BERLIN, now) == utc(2026, 3, 29, 7, 0)

    def test_local_to_utc(self) -> None:
        assert local_to_utc(datetime(2026, 7, 1, 12, 0), BERLIN) == utc(2026, 7, 1, 10, 0)
        assert local_to_utc(datetime(2026, 1, 1, 12, 0), BERLIN) == utc(2026, 1, 1, 11, 0)


class TestQuick:
    def test_now(self) -> None:
        assert quick_start(QuickStart.NOW, MSK, NOW) is None
        assert quick_start("now", MSK, NOW) is None

    def test_in_15_and_60_round_up_to_minute(self) -> None:
        assert quick_start(QuickStart.IN_15_MIN, MSK, NOW) == utc(2026, 11, 27, 9, 16)
        assert quick_start(QuickStart.IN_1_HOUR, NSK, NOW) == utc(2026, 11, 27, 10, 1)
        exact = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        assert quick_start("in15", MSK, exact) == utc(2026, 11, 27, 9, 15)

    def test_tomorrow_nine_in_two_zones(self) -> None:
        assert quick_start(QuickStart.TOMORROW_9, MSK, NOW) == utc(2026, 11, 28, 6, 0)
        assert quick_start(QuickStart.TOMORROW_9, NSK, NOW) == utc(2026, 11, 28, 2, 0)

    def test_unknown_option(self) -> None:
        with pytest.raises(ValueError):
            quick_start("soon", MSK, NOW)


def test_check_start_time() -> None:
    assert check_start_time(utc(2026, 11, 27, 10, 0), NOW) == utc(2026, 11, 27, 10, 0)
    with pytest.raises(InputError):
        check_start_time(utc(2026, 11, 27, 8, 0), NOW)
    with pytest.raises(ValueError):
        parse_start_time("10:00", MSK, datetime(2026, 1, 1))  # naive now is a bug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15.30", utc(2026, 11, 27, 12, 30)),  # hours.minutes: today in Moscow
        ("завтра 10.00", utc(2026, 11, 28, 7, 0)),
        ("tomorrow 9.05", utc(2026, 11, 28, 6, 5)),
        ("28.11 15.30", utc(2026, 11, 28, 12, 30)),  # the date first, the time last
        ("28.11.2026 15.30", utc(2026, 11, 28, 12, 30)),
        ("2026-11-28 15.30", utc(2026, 11, 28, 12, 30)),
    ],
)
def test_dotted_hours_and_minutes(text: str, expected: datetime) -> None:
    assert parse_start_time(text, MSK, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("28.11", "wizard-time-error-no-time"),  # a date alone: 28 is no hour
        ("09.30", "wizard-time-error-past-today"),  # a time today that has passed
        ("15.75", "wizard-time-error-not-understood"),
    ],
)
def test_dotted_forms_refused_with_the_right_reason(text: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_start_time(text, MSK, NOW)
    assert info.value.reason == reason


@pytest.mark.parametrize("today", FIXED_TODAYS)
@pytest.mark.parametrize("tz", [MSK, NSK], ids=["msk", "nsk"])
class TestAtFixedTodays:
    """Day words, quick buttons and typed dates at the fixed todays (tests/fixed_days.py):
    the 1st of a month at 01:30 Moscow (still the 31st in UTC), 31 December 23:50 Moscow
    (already 1 January in Novosibirsk) and 29 February 2028 — in both zones."""

    @staticmethod
    def at(day: date, hh: int, mm: int, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, time(hh, mm), tzinfo=tz).astimezone(UTC)

    def test_day_words_count_from_the_local_date(self, today: datetime, tz: ZoneInfo) -> None:
        local = today.astimezone(tz).date()
        assert parse_start_time("завтра 10:00", tz, today) == self.at(
            local + timedelta(days=1), 10, 0, tz
        )
        assert parse_start_time("tomorrow 00:00", tz, today) == self.at(
            local + timedelta(days=1), 0, 0, tz
        )
        assert parse_start_time("послезавтра 9:05", tz, today) == self.at(
            local + timedelta(days=2), 9, 5, tz
        )
        assert quick_start(QuickStart.TOMORROW_9, tz, today) == self.at(
            local + timedelta(days=1), 9, 0, tz
        )

    def test_relative_and_quick_cross_midnight(self, today: datetime, tz: ZoneInfo) -> None:
        start = today.astimezone(UTC)
        assert parse_start_time("через 1 ч", tz, today) == start + timedelta(hours=1)
        assert quick_start(QuickStart.IN_15_MIN, tz, today) == start + timedelta(minutes=15)

    def test_typed_date_of_tomorrow_without_year(self, today: datetime, tz: ZoneInfo) -> None:
        # 31.12 in Moscow: "01.01 10:00" is the coming 1 January, in the next year.
        tomorrow = today.astimezone(tz).date() + timedelta(days=1)
        typed = f"{tomorrow:%d.%m} 10:00"
        assert parse_start_time(typed, tz, today) == self.at(tomorrow, 10, 0, tz)

    def test_earlier_today_is_refused_not_moved(self, today: datetime, tz: ZoneInfo) -> None:
        # Today's date, one hour back: "past today", never a year ahead (and 29.02 of a
        # year without one is no crash).
        local = today.astimezone(tz)
        earlier = local - timedelta(hours=1)
        if earlier.date() != local.date():
            earlier = local.replace(hour=0, minute=0)
        with pytest.raises(InputError) as err:
            parse_start_time(f"{local:%d.%m} {earlier:%H:%M}", tz, today)
        assert err.value.reason == "wizard-time-error-past-today"
