"""Drains the durable outbox into Telegram within its limits.

* Limits, as sliding windows (exact, unlike a token bucket that allows a double burst):
  ``global_rate`` messages per second overall, one per ``per_chat_interval`` per chat,
  ``group_per_minute`` per group (negative chat ids). What must stay under the limits is
  when sends *arrive* at Telegram, which is somewhere between their start and their
  completion here: a send occupies its windows from its start, as "in flight", and is
  stamped when it completes; a new send may start only while the stamps of the last period
  plus the sends in flight leave room. So no period of arrivals can hold more than the
  limit however late requests leave or however long they take (stamping at the start let
  a busy loop bunch arrivals past Telegram's limits). Waiters for the overall window queue
  in order behind one lock, so slots go out evenly and no crowd wakes at once.
* Order per chat: rows of one chat go through one worker, in id order; the storage claim
  never hands out a row while an older row of its chat is claimed or waiting.
* ``TelegramRetryAfter``: pauses what it must for ``retry_after`` and the row is retried
  (inline while its claim lasts, else rescheduled) — not counted as a failure. A 429 for a
  chat this sender has just written to (its per-chat or group limit) pauses that chat
  only; one for a chat with no recent send, or a second chat refused within the pause,
  is the overall limit and pauses every send.
* Network errors and 5xx: rescheduled with exponential backoff (capped, jittered); the rest
  of that chat's batch is released so nothing overtakes the failed row.
* 403 → the user is marked inactive and the chat's pending rows dead; 400 chat not found →
  the chat's rows dead; migrate_to_chat_id → the chat's rows follow the new id, which is
  stored (``app_state``, read at start-up for TEAM_CHAT_ID, so a restart keeps it; the
  ``on_chat_migrated`` callback tells the application too); "message is not modified" →
  sent; "message to edit not found" → sent as a new message; other 400s → dead.
* At least once: a row is claimed with a lease; a crash before ``mark_sent`` lets the lease
  expire and the row is sent again by the next sender.
* Not twice: a row may wait longer than its lease (a team-chat backlog at 20 per minute).
  The rows this sender holds in memory are never claimed again by its own loop, and right
  before the network call (after the rate windows) the claim is re-checked and extended
  when less than half of it is left — only if the database still shows this claim, so a
  row another sender took over is not sent here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage
from storage.repositories.app_state import AppStateRepository, chat_migrated_key
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

# Which sender (if any) is making the current request: its gate applies the rate windows.
_sending: ContextVar[OutboxSender | None] = ContextVar("outbox_sending", default=None)
# ... and which row it is sending: the gate re-checks its claim just before the network.
_sending_row: ContextVar[OutboxMessage | None] = ContextVar("outbox_sending_row", default=None)

Clock = Callable[[], datetime]
ChatMigrated = Callable[[int, int], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


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


class _LeaseLost(Exception):
    """The row's claim is no longer this sender's: another sender may be sending it."""


@dataclass
class _ChatQueue:
    rows: deque[OutboxMessage] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Clock = utc_now,
        global_rate: int = 25,
        per_chat_interval: float = 1.0,
        per_chat_margin: float = 0.02,
        group_per_minute: int = 20,
        group_period: float = 60.0,
        lease: timedelta = timedelta(seconds=120),
        batch_size: int = 100,
        max_in_flight: int = 300,
        max_idle: float = 30.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 600.0,
        max_attempts: int = 50,
        on_chat_migrated: ChatMigrated | None = None,
        team_chat_id: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.clock = clock
        self.per_chat_interval = per_chat_interval
        # Completion → next start already spaces arrivals by the interval; the margin
        # absorbs clock granularity at Telegram's end.
        self.per_chat_margin = per_chat_margin
        self.lease = lease
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.max_idle = max_idle
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_attempts = max_attempts
        self.on_chat_migrated = on_chat_migrated
        self.team_chat_id = team_chat_id
        self._monotonic = monotonic
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
        self._wake = asyncio.Event()
        # Set while the loop waits for wake() or its timeout (tests wait on it, not on time).
        self.idle = asyncio.Event()
        self._progress = asyncio.Event()
        self._stopping = False
        self._chats: dict[int, _ChatQueue] = {}
        self._in_flight = 0
        self._aliases: dict[int, int] = {}  # old group id → new supergroup id
        self._run_task: asyncio.Task[None] | None = None
        # The last gate before the network: a send that passed the rate windows before a
        # 429 arrived (e.g. while the demo mark looked up a language) still waits it out.
        bot.session.middleware(self._pause_gate)
        self.sent_count = 0
        self.dead_count = 0

    # ------------------------------------------------------------------ control

    def wake(self) -> None:
        """Look at the outbox now (a row was queued). Safe to call from any handler."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._stopping = False
        self._run_task = asyncio.create_task(self.run(), name="outbox-sender")
        return self._run_task

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming, let sends in progress finish briefly, release what is left."""
        self._stopping = True
        self._wake.set()
        tasks = [q.task for q in self._chats.values() if q.task is not None]
        if self._run_task is not None:
            tasks.append(self._run_task)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        leftovers = [row for q in self._chats.values() for row in q.rows]
        self._chats.clear()
        if leftovers:
            # Release the claims so a restart sends them at once, not after the lease.
            with contextlib.suppress(Exception):
                await self._release(leftovers)

    async def run(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim()
            except Exception as exc:  # database trouble: try again soon, never die
                log.error("outbox_claim_failed error=%s", type(exc).__name__)
                await self._sleep_or_wake(min(5.0, self.max_idle))
                continue
            if claimed:
                continue
            timeout = await self._idle_timeout()
            if self._in_flight:
                # Rows queued behind a busy chat look due; workers wake us when they finish.
                timeout = max(timeout, 0.5)
            await self._sleep_or_wake(timeout)

    async def drain(self, limit: float = 30.0) -> None:
        """Tests/tools: return once nothing is due or in flight (or raise TimeoutError)."""
        async with asyncio.timeout(limit):
            while True:
                self._progress.clear()
                if self._in_flight == 0:
                    async with self.session_factory() as session:
                        next_due = await OutboxRepository(session).next_due_at()
                    if next_due is None:
                        return
                # Re-check after every delivered row, or at least twice a second.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), 0.5)

    # ------------------------------------------------------------------ claiming

    async def _claim(self) -> int:
        room = self.max_in_flight - self._in_flight
        if room <= 0:
            return 0
        # Rows still queued or being sent here may have outlived their lease (a long wait
        # for a group's window): claiming them again would queue a second copy.
        held = [row.id for queue in self._chats.values() for row in queue.rows]
        async with self.session_factory() as session:
            rows = await OutboxRepository(session).claim_due(
                self.clock(), min(room, self.batch_size), self.lease, exclude_ids=held
            )
            await session.commit()
        for row in rows:
            self._in_flight += 1
            queue = self._chats.setdefault(row.chat_id, _ChatQueue())
            queue.rows.append(row)
            if queue.task is None or queue.task.done():
                queue.task = asyncio.create_task(self._chat_worker(row.chat_id))
        return len(rows)

    async def _idle_timeout(self) -> float:
        try:
            async with self.session_factory() as session:
                next_due = await OutboxRepository(session).next_due_at()
        except Exception:
            return min(5.0, self.max_idle)
        if next_due is None:
            return self.max_idle
        wait = (next_due - self.clock()).total_seconds()
        # A row whose lease is still held by a running worker shows as due "now": do not
        # spin on it; a worker that finishes wakes the loop anyway.
        return min(self.max_idle, max(wait, 0.05))

    async def _sleep_or_wake(self, seconds: float) -> None:
        self.idle.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self.idle.clear()
        self._wake.clear()

    # ------------------------------------------------------------------ per chat

    async def _chat_worker(self, chat_id: int) -> None:
        queue = self._chats[chat_id]
        while queue.rows and not self._stopping:
            row = queue.rows[0]
            try:
                keep_going = await self._deliver(row)
            except Exception as exc:  # a bug or a database error: the lease will retry it
                log.error(
                    "outbox_worker_error row_id=%s chat_id=%s error=%s",
                    row.id, row.chat_id, type(exc).__name__,
                )
                keep_going = False
                with contextlib.suppress(Exception):
                    await self._reschedule(row, self._backoff(row.attempts), type(exc).__name__)
            queue.rows.popleft()
            self._in_flight -= 1
            self._progress.set()
            self._wake.set()
            if not keep_going and queue.rows:
                # Nothing of this chat may overtake the row that failed: hand the rest back.
                rest = list(queue.rows)
                queue.rows.clear()
                self._in_flight -= len(rest)
                await self._release(rest)
        if not queue.rows and self._chats.get(chat_id) is queue:
            del self._chats[chat_id]
        self._progress.set()
        self._wake.set()

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Send one row to the end; True when the chat's next row may follow."""
        target = self._aliases.get(row.chat_id, row.chat_id)
        if target != row.chat_id:
            await self._retarget(row.chat_id, target, announce=False)
            row.chat_id = target
            row.edit_message_id = None
        if row.text is None:
            await self._mark_dead(row, "text removed by retention")
            return True
        edit_id = row.edit_message_id
        while True:
            if not await self._keep_lease(row):
                return False  # another sender owns it now: leave it (and the chat) to it
            try:
                message_id = await self._send(row, edit_id)
            except _LeaseLost:
                return False
            except TelegramRetryAfter as exc:
                self._retry_after(row.chat_id, exc.retry_after)
                log.warning("outbox_retry_after row_id=%s seconds=%s", row.id, exc.retry_after)
                if self._lease_left(row, margin=exc.retry_after + 5):
                    continue
                await self._reschedule(row, exc.retry_after, "retry_after")
                return False
            except TelegramMigrateToChat as exc:
                new_id = exc.migrate_to_chat_id
                log.warning("outbox_chat_migrated old=%s new=%s", row.chat_id, new_id)
                self._aliases[row.chat_id] = new_id
                await self._retarget(row.chat_id, new_id)
                row.chat_id, edit_id = new_id, None
                continue
            except TelegramBadRequest as exc:
                text = exc.message.lower()
                if "message is not modified" in text:
                    message_id = edit_id
                elif edit_id is not None and (
                    "message to edit not found" in text or "message can't be edited" in text
                ):
                    edit_id = None  # the card is gone: send it anew
                    continue
                elif "chat not found" in text:
                    await self._chat_dead(row, "chat not found")
                    return False
                else:
                    await self._mark_dead(row, f"bad request: {exc.message}")
                    return True
            except TelegramForbiddenError as exc:
                await self._chat_dead(row, f"forbidden: {exc.message}", deactivate=True)
                return False
            except TelegramNotFound:
                await self._chat_dead(row, "not found")
                return False
            except TelegramUnauthorizedError:
                # The bot token itself is refused: keep the rows, try much later.
                self._pause(60)
                await self._reschedule(row, 60, "unauthorized")
                return False
            except (TelegramNetworkError, TelegramServerError) as exc:
                return await self._retry_later(row, type(exc).__name__)
            except TelegramAPIError as exc:
                return await self._retry_later(row, type(exc).__name__)
            await self._mark_sent(row, message_id)
            return True

    async def _send(self, row: OutboxMessage, edit_id: int | None) -> int | None:
        markup = (
            InlineKeyboardMarkup.model_validate_json(row.reply_markup)
            if row.reply_markup
            else None
        )
        assert row.text is not None
        token = _sending.set(self)
        row_token = _sending_row.set(row)
        try:
            return await self._send_now(row, edit_id, markup)
        finally:
            _sending_row.reset(row_token)
            _sending.reset(token)

    async def _send_now(
        self, row: OutboxMessage, edit_id: int | None, markup: InlineKeyboardMarkup | None
    ) -> int | None:
        assert row.text is not None
        if edit_id is not None:
            result = await self.bot.edit_message_text(
                text=row.text, chat_id=row.chat_id, message_id=edit_id, reply_markup=markup
            )
            return result.message_id if isinstance(result, Message) else edit_id
        message = await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
        return message.message_id

    # ------------------------------------------------------------------ limits

    async def _pause_gate(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not isinstance(method, SendMessage | EditMessageText):
            return await make_request(bot, method)
        chat_id = method.chat_id if isinstance(method.chat_id, int) else None
        if _sending.get() is not self or chat_id is None:
            # A loop, not one sleep: another 429 may extend the pause meanwhile.
            while (wait := self._pause_left(chat_id)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            return await make_request(bot, method)
        # The rate windows are taken here, just before the network, so time spent earlier
        # in the request chain cannot bunch sends up at Telegram's end; they are given
        # back (stamped) when the request is over, whatever its outcome.
        windows = await self._acquire(chat_id)
        sent = False
        try:
            # The wait for the windows may have outlasted the claim (a group at 20/min):
            # re-check (and extend) it now, the last moment before the network.
            row = _sending_row.get()
            if row is not None and not await self._keep_lease(row):
                raise _LeaseLost(row.id)
            sent = True
            response = await make_request(bot, method)
            windows[0].delivered_at = self._monotonic()
            return response
        finally:
            now = self._monotonic()
            for window in windows:
                if sent:
                    window.end(now)
                else:
                    window.cancel()
            self._send_ended.set()

    def _pause(self, seconds: float, chat_id: int | None = None) -> None:
        until = self._monotonic() + float(seconds)
        if chat_id is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._chat_paused_until[chat_id] = max(self._chat_paused_until.get(chat_id, 0), until)

    def _pause_left(self, chat_id: int | None) -> float:
        now = self._monotonic()
        wait = self._paused_until - now
        if chat_id is not None:
            wait = max(wait, self._chat_paused_until.get(chat_id, 0.0) - now)
        return wait

    def _retry_after(self, chat_id: int, seconds: float) -> None:
        """Pause what a 429 for ``chat_id`` concerns: that chat, or every send."""
        now = self._monotonic()
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
            self._pause(seconds, chat_id)
        else:
            # Nothing sent here lately could have tripped a per-chat limit, or several chats
            # are refused at once: the overall limit.
            self._pause(seconds)

    async def _acquire(self, chat_id: int) -> list[SlidingWindow]:
        """Wait until a send to ``chat_id`` fits every window; it is then in flight in them."""
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
            self._prune(self._monotonic())
        return [*own, self._global]

    async def _wait_for(self, windows: list[SlidingWindow], chat_id: int) -> None:
        while True:
            now = self._monotonic()
            delays = [w.delay(now) for w in windows]
            if any(d is None for d in delays):
                # Full with sends in flight: the next one to end frees the way.
                self._send_ended.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._send_ended.wait(), 1.0)
                continue
            wait = max([self._pause_left(chat_id), *(d for d in delays if d is not None)])
            if wait <= 0:
                return
            await asyncio.sleep(wait)

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

    async def _keep_lease(self, row: OutboxMessage) -> bool:
        """True while this sender holds ``row``'s claim; extended when under half is left.

        The extension is conditional on the stored claim still being ours (see
        ``OutboxRepository.extend_claim``), so it is safe even after the lease ran out.
        """
        if row.claimed_until is None or self._lease_left(
            row, margin=self.lease.total_seconds() / 2
        ):
            return True
        until = self.clock() + self.lease
        async with self.session_factory() as session:
            kept = await OutboxRepository(session).extend_claim(row.id, row.claimed_until, until)
            await session.commit()
        if kept:
            row.claimed_until = until
        else:
            log.info("outbox_lease_lost row_id=%s", row.id)
        return kept

    def _lease_left(self, row: OutboxMessage, margin: float = 2.0) -> bool:
        if row.claimed_until is None:
            return True
        return self.clock() + timedelta(seconds=margin) < row.claimed_until

    def _backoff(self, attempts: int) -> float:
        raw = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return raw * random.uniform(0.8, 1.2)

    # ------------------------------------------------------------------ bookkeeping

    async def _retry_later(self, row: OutboxMessage, error: str) -> bool:
        if row.attempts >= self.max_attempts:
            await self._mark_dead(row, f"gave up after {row.attempts} attempts: {error}")
            return True
        delay = self._backoff(row.attempts)
        log.warning("outbox_retry row_id=%s attempt=%s in=%.1fs error=%s",
                    row.id, row.attempts, delay, error)
        await self._reschedule(row, delay, error)
        return False

    async def _mark_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        async with self.session_factory() as session:
            await OutboxRepository(session).mark_sent(row.id, message_id, now=self.clock())
            await session.commit()
        self.sent_count += 1

    async def _mark_dead(self, row: OutboxMessage, error: str) -> None:
        log.warning("outbox_dead row_id=%s chat_id=%s reason=%s",
                    row.id, row.chat_id, error.split(":", 1)[0])
        async with self.session_factory() as session:
            await OutboxRepository(session).mark_dead(row.id, error, now=self.clock())
            await session.commit()
        self.dead_count += 1

    async def _chat_dead(self, row: OutboxMessage, error: str, *, deactivate: bool = False) -> None:
        log.warning("outbox_chat_dead chat_id=%s reason=%s", row.chat_id, error.split(":", 1)[0])
        async with self.session_factory() as session:
            count = await OutboxRepository(session).mark_chat_dead(
                row.chat_id, error, now=self.clock()
            )
            if deactivate and row.chat_id > 0:
                await UserRepository(session).deactivate(row.chat_id)
            await session.commit()
        self.dead_count += count

    async def _reschedule(self, row: OutboxMessage, delay: float, error: str) -> None:
        at = self.clock() + timedelta(seconds=delay)
        async with self.session_factory() as session:
            await OutboxRepository(session).reschedule(row.id, at, error)
            await session.commit()

    async def _release(self, rows: list[OutboxMessage]) -> None:
        now = self.clock()
        async with self.session_factory() as session:
            repo = OutboxRepository(session)
            for row in rows:
                await repo.reschedule(row.id, now, row.last_error)
            await session.commit()

    async def _retarget(self, old: int, new: int, *, announce: bool = True) -> None:
        async with self.session_factory() as session:
            await OutboxRepository(session).retarget_chat(old, new)
            if announce:
                # With the rows, in one transaction: the next start-up reads it (bot/app.py)
                # and queues the team chat's lines to the new id straight away.
                await AppStateRepository(session).set(chat_migrated_key(old), str(new))
            await session.commit()
        if not announce:
            return
        if old == self.team_chat_id:
            self.team_chat_id = new
            log.warning(
                "team_chat_migrated old=%s new=%s stored=yes (TEAM_CHAT_ID may be updated to %s)",
                old, new, new,
            )
        if self.on_chat_migrated is not None:
            try:
                await self.on_chat_migrated(old, new)
            except Exception as exc:
                log.error("chat_migrated_callback_failed error=%s", type(exc).__name__)
