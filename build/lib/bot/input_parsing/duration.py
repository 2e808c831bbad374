"""Maximum duration of a consultation, in minutes."""

from __future__ import annotations

import re

from bot.input_parsing.errors import InputError

MIN_MINUTES = 5
MAX_MINUTES = 180
QUICK_MINUTES: tuple[int, ...] = (15, 30, 45, 60)

_HOURS = r"(?:(?:h|hr|hrs|hour|hours|ч|час|часа|часов)\.?)"
_MINUTES = r"(?:(?:m|min|mins|minute|minutes|м|мин|минут|минуты|минута)\.?)"
_NUM = r"(\d+(?:[.,]\d+)?)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^(\d+)\s*{_MINUTES}?$"), "m"),
    (re.compile(r"^(\d{1,2}):(\d{2})$"), "h:m"),
    (re.compile(rf"^{_NUM}\s*{_HOURS}$"), "h"),
    (re.compile(rf"^(\d+)\s*{_HOURS}\s*(\d+)\s*{_MINUTES}?$"), "h m"),
)


def parse_duration(text: str | None) -> int:
    """``"30"``, ``"30 мин"``, ``"1 ч"``, ``"1.5 h"``, ``"1:30"``, ``"1 ч 30 мин"`` → minutes.

    Raises ``InputError`` with ``wizard-duration-error-{not-understood,too-short,too-long}``
    (the range is passed as ``min``/``max``).
    """
    raw = re.sub(r"\s+", " ", (text or "").strip().lower())
    minutes: int | None = None
    for pattern, kind in _PATTERNS:
        match = pattern.match(raw)
        if not match:
            continue
        if kind == "m":
            minutes = int(match.group(1))
        elif kind == "h:m":
            if int(match.group(2)) >= 60:
                break
            minutes = int(match.group(1)) * 60 + int(match.group(2))
        elif kind == "h":
            hours = float(match.group(1).replace(",", "."))
            minutes = round(hours * 60)
        else:
            minutes = int(match.group(1)) * 60 + int(match.group(2))
        break
    if minutes is None:
        raise InputError("wizard-duration-error-not-understood", min=MIN_MINUTES, max=MAX_MINUTES)
    return check_duration(minutes)


def check_duration(minutes: int) -> int:
    if minutes < MIN_MINUTES:
        raise InputError("wizard-duration-error-too-short", min=MIN_MINUTES, max=MAX_MINUTES)
    if minutes > MAX_MINUTES:
        raise InputError("wizard-duration-error-too-long", min=MIN_MINUTES, max=MAX_MINUTES)
    return minutes
