"""Typed time zones and city buttons → a stored key ZoneInfo accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.callback_data import TzCity
from bot.keyboards.access import timezone_keyboard
from bot.rendering.access import (
    CITIES,
    CITY_BY_KEY,
    TimezoneParseError,
    parse_timezone,
    zone_title,
)

WINTER = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def offset_hours(key: str) -> float:
    off = WINTER.astimezone(ZoneInfo(key)).utcoffset() or timedelta(0)
    return off.total_seconds() / 3600


@pytest.mark.parametrize(
    ("text", "key", "hours"),
    [
        ("UTC+7", "Etc/GMT-7", 7),
        ("utc +7", "Etc/GMT-7", 7),
        ("GMT-3", "Etc/GMT+3", -3),
        ("+3", "Etc/GMT-3", 3),
        ("-05:00", "Etc/GMT+5", -5),
        ("+0530", "Asia/Kolkata", 5.5),
        ("UTC+05:30", "Asia/Kolkata", 5.5),
        ("+14", "Etc/GMT-14", 14),
        ("UTC", "UTC", 0),
        ("+0", "UTC", 0),
        ("МСК+4", "Etc/GMT-7", 7),
        ("Asia/Tokyo", "Asia/Tokyo", 9),
        ("europe/berlin", "Europe/Berlin", 1),
        ("America/New York", "America/New_York", -5),
        ("Москва", "Europe/Moscow", 3),
        ("новосибирск", "Asia/Novosibirsk", 7),
        ("Kamchatka", "Asia/Kamchatka", 12),
        ("мск", "Europe/Moscow", 3),
    ],
)
def test_parse_timezone(text: str, key: str, hours: float) -> None:
    choice = parse_timezone(text)
    assert choice.key == key
    assert ZoneInfo(choice.key) == choice.tz
    assert offset_hours(choice.key) == hours


@pytest.mark.parametrize("text", ["", "UTC+15", "-13", "+05:61", "+03:20", "Atlantis", "12:00:00"])
def test_parse_timezone_rejects(text: str) -> None:
    with pytest.raises(TimezoneParseError):
        parse_timezone(text)


def test_city_keyboard_covers_all_cities_in_both_languages() -> None:
    for lang, first in (("ru", "Калининград"), ("en", "Kaliningrad")):
        markup = timezone_keyboard(lang)
        buttons = [b for row in markup.inline_keyboard for b in row]
        assert buttons[0].text == first
        keys = [TzCity.unpack(b.callback_data or "").city for b in buttons]
        assert keys == [c.key for c in CITIES]
    names = {c.name("ru") for c in CITIES}
    assert {"Москва", "Магадан", "Камчатка", "UTC", "Омск", "Якутск"} <= names
    for city in CITIES:
        ZoneInfo(city.zone)


def test_zone_title() -> None:
    assert zone_title("Asia/Novosibirsk", "ru", WINTER) == "Новосибирск (UTC+7)"
    assert zone_title("Etc/GMT-7", "en", WINTER) == "UTC+7"
    assert zone_title("UTC", "en", WINTER) == "UTC"
    assert zone_title("Asia/Tokyo", "en", WINTER) == "Asia/Tokyo (UTC+9)"
    assert zone_title(CITY_BY_KEY["msk"].zone, "en", WINTER) == "Moscow (UTC+3)"
