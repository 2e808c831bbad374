"""Fixed "todays" for the date-sensitive tests, so that none depends on the day it runs.

Each is a moment in Moscow (the default zone) chosen for an edge of the calendar:

- ``first-of-month``: 1 June 2026, 01:30 Moscow = 31 May 22:30 UTC — single-digit days
  (the calendar's buttons read "01", "03"), and UTC is still in the previous month.
- ``new-year-eve``: 31 December 2026, 23:50 Moscow — "tomorrow" is in the next month
  and the next year (and already "today" in Novosibirsk, UTC+7).
- ``leap-day``: 29 February 2028 (a leap year), 12:00 Moscow — the next day is 1 March.

``FixedClock`` starts at such a moment (or at the wall clock) and runs on at the pace of
``time.monotonic``: time still passes between a test's steps, only the day is fixed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

MSK = ZoneInfo("Europe/Moscow")

FIRST_OF_MONTH = datetime(2026, 6, 1, 1, 30, tzinfo=MSK)
NEW_YEAR_EVE = datetime(2026, 12, 31, 23, 50, tzinfo=MSK)
LEAP_DAY = datetime(2028, 2, 29, 12, 0, tzinfo=MSK)

FIXED_TODAYS = [
    pytest.param(FIRST_OF_MONTH, id="first-of-month"),
    pytest.param(NEW_YEAR_EVE, id="new-year-eve"),
    pytest.param(LEAP_DAY, id="leap-day"),
]


class FixedClock:
    """An aware-UTC clock: ``start`` (None: the wall clock) plus the time elapsed since it
    was made, plus ``offset`` (move it to let time pass at once)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start.astimezone(UTC) if start is not None else None
        self.offset = timedelta(0)
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        if self.start is None:
            return datetime.now(UTC) + self.offset
        return self.start + timedelta(seconds=time.monotonic() - self._t0) + self.offset
