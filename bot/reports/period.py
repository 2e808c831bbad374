"""A report's period: whole local days in the user's zone, and the four presets.

``Period(first, last)`` covers ``first`` 00:00 to the end of ``last`` in ``tz`` (both days
included); ``utc_bounds`` gives the half-open UTC interval the storage reads. Weeks start on
Monday (ISO, as in Russia and most of Europe).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MAX_DAYS = 366  # a typed range of at most a year (a leap year's whole)


class Preset(enum.StrEnum):
    THIS_WEEK = "tw"
    LAST_WEEK = "lw"
    THIS_MONTH = "tm"
    LAST_MONTH = "lm"


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a period ends before it begins")

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def utc_bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) in aware UTC: local midnight of ``first`` to that after ``last``."""
        return _midnight(self.first, tz), _midnight(self.last + timedelta(days=1), tz)

    def key(self) -> str:
        """``20260501-20260531``: for callback data and the audit (no personal data)."""
        return f"{self.first:%Y%m%d}-{self.last:%Y%m%d}"

    @classmethod
    def from_key(cls, key: str) -> Period:
        """The inverse of ``key``; ValueError for anything else (a forged button included:
        longer than ``MAX_DAYS``)."""
        first, sep, last = key.partition("-")
        if not sep:
            raise ValueError("not a period key")
        period = cls(_day(first), _day(last))
        if (period.last - period.first).days + 1 > MAX_DAYS:
            raise ValueError("a period longer than a report covers")
        return period


def _day(text: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError("not a yyyymmdd date")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _midnight(day: date, tz: tzinfo) -> datetime:
    # fold=0 and a round trip through UTC: a midnight inside a DST gap (a few zones move
    # their clocks at 00:00) becomes the first instant of that day.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def preset(kind: Preset | str, now: datetime, tz: tzinfo) -> Period:
    """The period a preset button means at ``now`` (aware) in ``tz``."""
    today = now.astimezone(tz).date()
    kind = Preset(kind)
    if kind in (Preset.THIS_WEEK, Preset.LAST_WEEK):
        monday = today - timedelta(days=today.weekday())
        if kind is Preset.LAST_WEEK:
            monday -= timedelta(days=7)
        return Period(monday, monday + timedelta(days=6))
    first = today.replace(day=1)
    if kind is Preset.LAST_MONTH:
        first = (first - timedelta(days=1)).replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return Period(first, next_month - timedelta(days=1))
