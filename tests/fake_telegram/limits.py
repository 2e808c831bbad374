"""Telegram's flood limits, as a configurable sliding-window limiter.

Off by default so ordinary tests are not slowed; the outbox tests switch it on to prove the
sender stays under the limits and honours `retry_after`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

# Methods that deliver a new message; the limiter and force_429 count these by default.
SEND_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "sendmediagroup", "sendcontact", "sendsticker"}
)


@dataclass(frozen=True)
class Window:
    """At most `count` sends within `seconds`."""

    count: int
    seconds: float


@dataclass
class RateLimits:
    enabled: bool = False
    per_chat: Window = field(default_factory=lambda: Window(1, 1.0))
    per_group: Window = field(default_factory=lambda: Window(20, 60.0))
    overall: Window = field(default_factory=lambda: Window(30, 1.0))


class ManualClock:
    """A clock tests move by hand, for rate-limit checks without real waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RateLimiter:
    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._per_chat: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque()

    def check(self, chat_id: int, is_group: bool) -> int | None:
        """Retry-after seconds if a send to chat_id now breaks a limit, else None (and count it)."""
        if not self.limits.enabled:
            return None
        now = self._clock()
        chat_times = self._per_chat.setdefault(chat_id, deque())
        waits = [
            _wait(chat_times, self.limits.per_chat, now),
            _wait(self._overall, self.limits.overall, now),
        ]
        if is_group:
            waits.append(_wait(chat_times, self.limits.per_group, now))
        # Timestamps older than the longest window can never matter again.
        limits = self.limits
        keep = max(limits.per_chat.seconds, limits.per_group.seconds, limits.overall.seconds)
        for times in (chat_times, self._overall):
            while times and now - times[0] >= keep:
                times.popleft()
        worst = max(waits)
        if worst > 0:
            return max(1, math.ceil(worst))
        chat_times.append(now)
        self._overall.append(now)
        return None


def _wait(times: deque[float], window: Window, now: float) -> float:
    """Seconds until one more send fits in the window (0 when it fits now)."""
    recent = [t for t in times if now - t < window.seconds]
    if len(recent) < window.count:
        return 0.0
    oldest_blocking = recent[len(recent) - window.count]
    return oldest_blocking + window.seconds - now
