"""Retry policy for requests that are safe to repeat (GETs, terminate-callback).

Exponential backoff with full jitter (a random delay in ``[0, min(max_delay,
base_delay * 2**(n-1))]``), bounded by ``max_attempts`` and by ``total_timeout`` seconds
since the first attempt. A ``Retry-After`` is honoured when it is sane: a non-negative
number of seconds (or an HTTP date) not above ``max_retry_after`` that still fits in the
total budget; a longer one ends the retries at once rather than being cut short.

``sleep``, ``clock`` and ``rng`` are injectable so tests run instantly and can assert the
delays that would have been waited.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after"]


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    total_timeout: float = 20.0
    max_retry_after: float = 10.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(0.0, cap)

    def next_delay(self, attempt: int, elapsed: float, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None when retries are over."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        delay = retry_after if retry_after is not None else self.backoff(attempt)
        if elapsed + delay > self.total_timeout:
            return None
        return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or HTTP date); None if absent or garbage."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
        return max(seconds, 0.0)
    if seconds != seconds or seconds < 0:  # NaN or negative: not sane
        return None
    return seconds
