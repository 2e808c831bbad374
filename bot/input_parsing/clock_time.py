"""A wall-clock time of day typed by a user (the morning digest's time in /settings).

Accepted: ``8:30``, ``08:30``, ``8.30``, ``08.30``, ``0830``, ``8`` (a whole hour), with
spaces around; 00:00–23:59. Anything else is refused with ``digest-time-bad``.
"""

from __future__ import annotations

import re
from datetime import time

from bot.input_parsing.errors import InputError

_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})$")


def parse_clock_time(text: str) -> time:
    typed = text.strip()
    match = _CLOCK.match(typed) or _COMPACT.match(typed)
    if match is None:
        raise InputError("digest-time-bad")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise InputError("digest-time-bad")
    return time(hour, minute)
