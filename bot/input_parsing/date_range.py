"""Two dates typed for /report (issue 15), in the user's zone → a ``Period`` of whole days.

Forms: ``01.05.2026 31.05.2026``, ``1.5.26 - 31.5.26``, ``2026-05-01 — 2026-05-31``,
``01.05 по 31.05`` / ``01.05 to 31.05``, or one date (that day alone). A date without a year
is the latest such day not after today for the first date (reports look back), and the
earliest on or after the first date for the second, so ``20.12 10.01`` typed in January
spans the new year. The period may end after today (it is cut by what exists) but may not
begin after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo

from bot.input_parsing.errors import InputError
from bot.reports.period import MAX_DAYS, Period

_DOT = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# Between and around the dates: dashes, "по"/"to"/"till", "с"/"from".
_NOISE = re.compile(r"\s*(?:—|–|-{1,2}|\.\.|\bпо\b|\bto\b|\btill\b|\bс\b|\bfrom\b|,)\s*")


# A day and month typed without a year → the date it means.
_Resolver = Callable[[tuple[int, int]], date]


def parse_date_range(text: str | None, tz: tzinfo, now: datetime) -> Period:
    """Raises ``InputError``: ``report-dates-error-{not-understood,bad-date,inverted,
    future,too-long}`` (``first``/``last`` as ``date`` where they apply)."""
    today = now.astimezone(tz).date()
    raw = (text or "").strip().lower()
    # ISO dates carry dashes of their own: take them out before the dashes are separators.
    isos = [m.group(0) for m in re.finditer(r"\d{4}-\d{1,2}-\d{1,2}", raw)]
    rest = raw
    for iso in isos:
        rest = rest.replace(iso, " ", 1)
    words = [w for w in _NOISE.sub(" ", rest).split() if w]
    if isos and words:
        raise InputError("report-dates-error-not-understood")
    tokens = isos or words
    if not 1 <= len(tokens) <= 2:
        raise InputError("report-dates-error-not-understood")
    first = _date(tokens[0], lambda day: _latest_not_after(day, today))
    last = first
    if len(tokens) == 2:
        last = _date(tokens[1], lambda day: _earliest_on_or_after(day, first))
    if last < first:
        raise InputError("report-dates-error-inverted", first=first, last=last)
    if first > today:
        raise InputError("report-dates-error-future", first=first)
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError("report-dates-error-too-long", max_days=MAX_DAYS)
    return Period(first, last)


def _date(token: str, yearless: _Resolver) -> date:
    iso = _ISO.match(token)
    dot = _DOT.match(token) if iso is None else None
    if iso is None and dot is None:
        raise InputError("report-dates-error-not-understood")
    try:
        if iso is not None:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        assert dot is not None
        day, month, year = int(dot.group(1)), int(dot.group(2)), dot.group(3)
        if year is None:
            date(2000, month, day)  # valid on some year (29.02 included)?
            return yearless((month, day))
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    except ValueError:
        raise InputError("report-dates-error-bad-date", text=token) from None


def _on(year: int, month_day: tuple[int, int]) -> date | None:
    try:
        return date(year, *month_day)
    except ValueError:  # 29.02 of a common year
        return None


def _latest_not_after(month_day: tuple[int, int], limit: date) -> date:
    for year in range(limit.year, limit.year - 8, -1):
        found = _on(year, month_day)
        if found is not None and found <= limit:
            return found
    raise ValueError("no such day")


def _earliest_on_or_after(month_day: tuple[int, int], limit: date) -> date:
    for year in range(limit.year, limit.year + 8):
        found = _on(year, month_day)
        if found is not None and found >= limit:
            return found
    raise ValueError("no such day")
