"""Telegram's rate limits as this sender keeps them, and the pauses a 429 imposes.

Sliding windows (exact, unlike a token bucket that allows a double burst): ``global_rate``
messages per second overall, one per ``per_chat_interval`` per chat, ``group_per_minute``
per group (negative chat ids). What must stay under the limits is when sends *arrive* at
Telegram, which is somewhere between their start and their completion here: a send
occupies its windows from its start, as "in flight", and is stamped when it completes; a
new send may start only while the stamps of the last period plus the sends in flight leave
room. So no period of arrivals can hold more than the limit however late requests leave or
however long they take (stamping at the start let a busy loop bunch arrivals past
Telegram's limits). Waiters for the overall window queue in order behind one lock, so
slots go out evenly and no crowd wakes at once.

``TelegramRetryAfter`` (``retry_after``): a 429 for a chat this sender has just written to
(its per-chat or group limit) pauses that chat only; one for a chat with no recent send, or
a second chat refused within the pause, is the overall limit and pauses every send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

# A computed wait is slept at least this long, so its deadline has surely passed when it
# ends. On a clock that moves in steps (a coarse one, or a test's virtual loop time) a
# sliver of a wait ends before the clock moves: the same sliver is computed again and the
# waiter spins, with no time passing. A millisecond late is always safe for a rate limit.
MIN_WAIT = 0.001


async def wait_out(seconds: float) -> None:
    """Sleep ``seconds`` computed from a deadline (see MIN_WAIT)."""
    await asyncio.sleep(max(seconds, MIN_WAIT))


class SlidingWindow:
    """At most ``limit`` sends in any ``period`` seconds, counted by completion.

    A send in flight counts as if it completed now (it may arrive at any moment); once
    done it is stamped with its completion time, which is never before its arrival.
    """

    __slots__ = ("delivered_at", "in_flight", "limit", "period", "stamps")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.stamps: deque[float] = deque()
        self.in_flight = 0
        self.delivered_at: float | None = None  # last send that was not refused

    def delay(self, now: float) -> float | None:
        """Seconds until one more send may start; None: not before a send in flight ends."""
        while self.stamps and self.stamps[0] <= now - self.period:
            self.stamps.popleft()
        excess = len(self.stamps) + self.in_flight - self.limit + 1
        if excess <= 0:
            return 0.0
        if excess <= len(self.stamps):
            return self.stamps[excess - 1] + self.period - now
        return None

    def begin(self) -> None:
        self.in_flight += 1

    def end(self, now: float) -> None:
        self.in_flight -= 1
        self.stamps.append(now)

    def cancel(self) -> None:
        """A send that never went out: it leaves the window without a stamp."""
        self.in_flight -= 1

    def idle(self, now: float) -> bool:
        return self.in_flight == 0 and (not self.stamps or self.stamps[-1] <= now - self.period)


class RateLimits:
    """The per-chat, per-group and overall windows, and the pauses ordered by 429s."""

    def __init__(
        self,
        *,
        global_rate: int = 25,
        per_chat_interval: float = 1.0,
        per_chat_margin: float = 0.02,
        group_per_minute: int = 20,
        group_period: float = 60.0,
        monotonic: Callable[[], float],
    ) -> None:
        self.per_chat_interval = per_chat_interval
        # Completion → next start already spaces arrivals by the interval; the margin
        # absorbs clock granularity at Telegram's end.
        self.per_chat_margin = per_chat_margin
        self.monotonic = monotonic
        self._global = SlidingWindow(global_rate, 1.0)
        self._group_per_minute = group_per_minute
        self._group_period = group_period
        self._chat_windows: dict[int, SlidingWindow] = {}
        self._group_windows: dict[int, SlidingWindow] = {}
        self._limit_lock = asyncio.Lock()  # FIFO: overall-window waiters go in turn
        self._send_ended = asyncio.Event()
        self._paused_until = 0.0
        self._chat_paused_until: dict[int, float] = {}
        self._last_chat_429: tuple[int, float] | None = None  # (chat, when): to tell global

    # ------------------------------------------------------------------ pauses

    def pause(self, seconds: float, chat_id: int | None = None) -> None:
        until = self.monotonic() + float(seconds)
        if chat_id is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._chat_paused_until[chat_id] = max(self._chat_paused_until.get(chat_id, 0), until)

    def pause_left(self, chat_id: int | None) -> float:
        now = self.monotonic()
        wait = self._paused_until - now
        if chat_id is not None:
            wait = max(wait, self._chat_paused_until.get(chat_id, 0.0) - now)
        return wait

    def retry_after(self, chat_id: int, seconds: float) -> None:
        """Pause what a 429 for ``chat_id`` concerns: that chat, or every send."""
        now = self.monotonic()
        chat = self._chat_windows.get(chat_id)
        # Only sends that got through count: a refused one is no evidence of the chat's use.
        last = chat.delivered_at if chat is not None else None
        recent = last is not None and now - last < 3 * max(self.per_chat_interval, 1.0)
        if chat_id < 0 and (group := self._group_windows.get(chat_id)) is not None:
            # A group's per-minute limit: delivered to lately, and its window half full.
            recent = recent or (
                last is not None
                and now - last < group.period
                and len(group.stamps) * 2 >= group.limit
            )
        previous = self._last_chat_429
        other_chat_refused = (
            previous is not None and previous[0] != chat_id and now - previous[1] < seconds
        )
        self._last_chat_429 = (chat_id, now)
        if recent and not other_chat_refused:
            # Its own limit: the other chats have nothing to wait for.
            self.pause(seconds, chat_id)
        else:
            # Nothing sent here lately could have tripped a per-chat limit, or several chats
            # are refused at once: the overall limit.
            self.pause(seconds)

    # ------------------------------------------------------------------ windows

    async def acquire(self, chat_id: int) -> list[SlidingWindow]:
        """Wait until a send to ``chat_id`` fits every window; it is then in flight in them.

        Give them back with ``release`` whatever the outcome of the send.
        """
        chat = self._chat_windows.get(chat_id)
        if chat is None:
            interval = self.per_chat_interval + self.per_chat_margin
            chat = self._chat_windows[chat_id] = SlidingWindow(1, interval)
        own = [chat]
        if chat_id < 0:
            group = self._group_windows.get(chat_id)
            if group is None:
                group = SlidingWindow(self._group_per_minute, self._group_period)
                self._group_windows[chat_id] = group
            own.append(group)
        # The chat's own windows first, outside the lock: only this chat's worker sends to
        # it, so they stay open while it queues for the overall window.
        await self._wait_for(own, chat_id)
        async with self._limit_lock:
            await self._wait_for([self._global], chat_id)
            # Pruning (under this lock) may have dropped them while idle: put them back.
            self._chat_windows[chat_id] = chat
            if chat_id < 0:
                self._group_windows[chat_id] = own[1]
            for window in (*own, self._global):
                window.begin()
            self._prune(self.monotonic())
        return [*own, self._global]

    def release(self, windows: list[SlidingWindow], *, sent: bool, delivered: bool) -> None:
        """The send is over: stamped if it went out (``sent``), else taken back unstamped;
        ``delivered`` (not refused) marks the chat as recently written to."""
        now = self.monotonic()
        if delivered:
            windows[0].delivered_at = now
        for window in windows:
            if sent:
                window.end(now)
            else:
                window.cancel()
        self._send_ended.set()

    async def _wait_for(self, windows: list[SlidingWindow], chat_id: int) -> None:
        while True:
            now = self.monotonic()
            delays = [w.delay(now) for w in windows]
            if any(d is None for d in delays):
                # Full with sends in flight: the next one to end frees the way.
                self._send_ended.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._send_ended.wait(), 1.0)
                continue
            wait = max([self.pause_left(chat_id), *(d for d in delays if d is not None)])
            if wait <= 0:
                return
            await wait_out(wait)

    def _prune(self, now: float) -> None:
        if len(self._chat_windows) > 1000:
            for key in [k for k, w in self._chat_windows.items() if w.idle(now)]:
                del self._chat_windows[key]
        if len(self._group_windows) > 1000:
            for key in [k for k, w in self._group_windows.items() if w.idle(now)]:
                del self._group_windows[key]
        if len(self._chat_paused_until) > 1000:
            for key in [k for k, t in self._chat_paused_until.items() if t <= now]:
                del self._chat_paused_until[key]
