"""Start time of a consultation: typed or quick options in the coordinator's zone → UTC.

``None`` means "start now" (the API starts at once when ``beginAtUtc`` is absent).
Typed forms: ``15:30``, ``28.11 15:30``, ``28.11.2026 15:30``, ``2026-11-28 15:30``,
``завтра 10:00`` / ``tomorrow 10:00``, ``сегодня 18:00`` / ``today 18:00``, ``через 20 мин`` /
``in 2 h``, ``сейчас`` / ``now``. Local wall-clock times are resolved with ``zoneinfo``:
a time inside a spring-forward gap is refused; one in the repeated autumn hour takes its
first occurrence (``fold=0``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.input_parsing.duration import _HOURS, _MINUTES
from bot.input_parsing.errors import InputError

MAX_DAYS_AHEAD = 60


class QuickStart(StrEnum):
    NOW = "now"
    IN_15_MIN = "in15"
    IN_1_HOUR = "in60"
    TOMORROW_9 = "tomorrow9"


_DAY_WORDS = {
    "сегодня": 0,
    "today": 0,
    "завтра": 1,
    "tomorrow": 1,
    "послезавтра": 2,
}
_NOW_WORDS = {"сейчас", "now", "сразу", "немедленно", "right now"}
_FILLER = {"в", "во", "at", "on", ","}

_TIME = re.compile(r"(?<![\d.:])(\d{1,2}):(\d{2})(?![\d:])")
_ISO_DATE = re.compile(r"(?<![\d.])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])")
_DOT_DATE = re.compile(r"(?<![\d.:])(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2}))?(?![\d:])")
# "15.30": hours and minutes with a dot, as many people type them (see _dotted_time).
_DOT_TIME = re.compile(r"(?<![\d.:/])(\d{1,2})\.(\d{2})(?![\d.:/])")
_RELATIVE = re.compile(rf"^(?:через|in)\s+(\d+)\s*(?:(?P<h>{_HOURS})|(?P<m>{_MINUTES}))$")


def _utc_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def local_to_utc(local: datetime, tz: tzinfo) -> datetime:
    """Naive wall-clock time in ``tz`` → aware UTC; refuses times that never happen (DST gap)."""
    aware = local.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:
        raise InputError("wizard-time-error-nonexistent", time=local.strftime("%H:%M"))
    return utc


def quick_start(
    option: QuickStart | str, tz: tzinfo, now: datetime | None = None
) -> datetime | None:
    option = QuickStart(option)
    utc_now = _utc_now(now)
    if option is QuickStart.NOW:
        return None
    if option is QuickStart.IN_15_MIN:
        return _ceil_minute(utc_now + timedelta(minutes=15))
    if option is QuickStart.IN_1_HOUR:
        return _ceil_minute(utc_now + timedelta(hours=1))
    tomorrow = utc_now.astimezone(tz).date() + timedelta(days=1)
    try:
        return local_to_utc(datetime.combine(tomorrow, time(9, 0)), tz)
    except InputError:
        # 09:00 is never in a DST gap anywhere today; still, never fail a button press.
        return datetime.combine(tomorrow, time(10, 0), tzinfo=tz).astimezone(UTC)


def parse_start_time(
    text: str | None,
    tz: tzinfo,
    now: datetime | None = None,
    *,
    max_days: int = MAX_DAYS_AHEAD,
) -> datetime | None:
    """Typed start time → aware UTC (``None`` = now). Raises ``InputError``:

    ``wizard-time-error-{empty,not-understood,no-time,bad-date,past-today,past,too-far,
    nonexistent}``.
    """
    utc_now = _utc_now(now)
    local_now = utc_now.astimezone(tz)
    raw = re.sub(r"\s+", " ", (text or "").strip().lower().replace("ё", "е"))
    if not raw:
        raise InputError("wizard-time-error-empty")
    if raw in _NOW_WORDS:
        return None

    relative = _RELATIVE.match(raw)
    if relative:
        amount = int(relative.group(1))
        delta = timedelta(hours=amount) if relative.group("h") else timedelta(minutes=amount)
        return check_start_time(_ceil_minute(utc_now + delta), utc_now, max_days=max_days)

    rest = raw
    time_match = _TIME.search(rest) or _dotted_time(rest)
    if not time_match:
        if _ISO_DATE.search(rest) or _DOT_DATE.search(rest) or _has_day_word(rest):
            raise InputError("wizard-time-error-no-time")
        raise InputError("wizard-time-error-not-understood")
    hour, minute = int(time_match.group(1)), int(time_match.group(2))
    rest = _cut(rest, time_match)
    if hour > 23 or minute > 59:
        raise InputError("wizard-time-error-not-understood")
    wall = time(hour, minute)

    day: date | None = None
    year_given = True
    day_word = False
    iso = _ISO_DATE.search(rest)
    dot = _DOT_DATE.search(rest) if not iso else None
    try:
        if iso:
            day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            rest = _cut(rest, iso)
        elif dot:
            year_text = dot.group(3)
            year_given = year_text is not None
            year = local_now.year
            if year_text is not None:
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            day = date(year, int(dot.group(2)), int(dot.group(1)))
            rest = _cut(rest, dot)
    except ValueError:
        raise InputError("wizard-time-error-bad-date") from None

    tokens = [tok for tok in rest.replace(",", " ").split() if tok not in _FILLER]
    for tok in list(tokens):
        if tok in _DAY_WORDS and day is None:
            day = local_now.date() + timedelta(days=_DAY_WORDS[tok])
            day_word = True
            tokens.remove(tok)
    if tokens:
        raise InputError("wizard-time-error-not-understood")

    time_text = wall.strftime("%H:%M")
    if day is None:
        day = local_now.date()
        moment = local_to_utc(datetime.combine(day, wall), tz)
        if _same_minute_or_later(moment, utc_now):
            return None if _is_current_minute(moment, utc_now) else moment
        # Rolling silently to tomorrow would book a call the coordinator did not mean.
        raise InputError("wizard-time-error-past-today", time=time_text)

    moment = local_to_utc(datetime.combine(day, wall), tz)
    if not year_given and not _same_minute_or_later(moment, utc_now):
        # "05.01 10:00" typed in December means next January.
        try:
            next_year = local_to_utc(datetime.combine(day.replace(year=day.year + 1), wall), tz)
        except ValueError:  # 29.02
            next_year = None
        if next_year is not None and next_year - utc_now <= timedelta(days=max_days):
            moment = next_year
    if not _same_minute_or_later(moment, utc_now):
        if day_word or day == local_now.date():
            raise InputError("wizard-time-error-past-today", time=time_text)
        raise InputError("wizard-time-error-past")
    if _is_current_minute(moment, utc_now):
        return None
    return check_start_time(moment, utc_now, max_days=max_days)


def check_start_time(
    moment: datetime, now: datetime | None = None, *, max_days: int = MAX_DAYS_AHEAD
) -> datetime:
    """A chosen start (aware) must not be past nor more than ``max_days`` ahead."""
    utc_now = _utc_now(now)
    moment = moment.astimezone(UTC)
    if not _same_minute_or_later(moment, utc_now):
        raise InputError("wizard-time-error-past")
    if moment - utc_now > timedelta(days=max_days):
        raise InputError("wizard-time-error-too-far", max_days=max_days)
    return moment


def _dotted_time(text: str) -> re.Match[str] | None:
    """``15.30`` as a time when the text has no ``15:30``: the last H.MM that is a valid
    time (``28.11 15.30``: the date first, the time last; ``28.11`` alone stays a date)."""
    found = list(_DOT_TIME.finditer(text))
    for match in reversed(found):
        if int(match.group(1)) <= 23 and int(match.group(2)) <= 59:
            return match
    if len(found) == 1 and int(found[0].group(1)) <= 23:
        return found[0]  # "15.75": a time with wrong minutes (refused as not understood)
    return None


def _cut(text: str, match: re.Match[str]) -> str:
    return (text[: match.start()] + " " + text[match.end() :]).strip()


def _has_day_word(text: str) -> bool:
    return any(tok in _DAY_WORDS for tok in text.split())


def _same_minute_or_later(moment: datetime, now: datetime) -> bool:
    # A typed "15:30" at 15:30:40 means "now", not "the past".
    return moment >= now.replace(second=0, microsecond=0)


def _is_current_minute(moment: datetime, now: datetime) -> bool:
    return moment < now.replace(second=0, microsecond=0) + timedelta(minutes=1)
