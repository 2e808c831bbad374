"""Drains the durable outbox into Telegram within its limits: claim, send, mark.

* Limits: ``limits.RateLimits`` (per chat, per group, overall; pauses after a 429), applied
  by ``gate.RequestGate`` just before the network.
* Order per chat: rows of one chat go through one worker, in id order; the storage claim
  never hands out a row while an older row of its chat is claimed or waiting. A row that
  must wait (backoff, a 429 past its claim) hands the rest of its chat's batch back, so
  nothing overtakes it.
* Each row: ``send.RowDelivery`` (the recipient's right, the send, its outcome, the mark).
* At least once, not twice: ``records`` (leases) and ``attempt`` (the last re-check, in
  the session that records the send right after Telegram's answer).
* At most ``sends_in_flight`` sends between the network and their record (default 1): a
  ``kill -9`` repeats at most that many messages (``attempt.SendSlots``).
* Leases are short (8 s) and renewed by a heartbeat (every third of it) while the process
  lives: a dead replica's rows pass to the others within one lease of its last beat, so
  within 10 s of its death however it is timed (the claiming replica's own latency fits in
  the 2 s left); a restart of the same ``instance`` releases its predecessor's claims at
  once (``records.release_previous``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.attempt import SendSlots
from bot.outbox.gate import RequestGate
from bot.outbox.limits import RateLimits
from bot.outbox.records import Clock, OutboxRecords, RecipientCheck
from bot.outbox.send import ChatMigrated, OnSend, RowDelivery
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        lease: timedelta = timedelta(seconds=8),
        heartbeat: float | None = None,
        instance: str = "main",
        batch_size: int = 100,
        max_in_flight: int = 300,
        sends_in_flight: int = 1,
        max_idle: float = 30.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 600.0,
        max_attempts: int = 50,
        on_chat_migrated: ChatMigrated | None = None,
        team_chat_id: int | None = None,
        admin_ids: Collection[int] | None = None,
        recipient_check: RecipientCheck | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        on_send: OnSend | None = None,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.clock = clock
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.max_idle = max_idle
        if recipient_check is None and admin_ids is not None:
            from bot.services.delivery import may_deliver

            recipient_check = functools.partial(may_deliver, admin_ids=frozenset(admin_ids))
        self.records = OutboxRecords(session_factory, clock, lease, instance=instance)
        # Real seconds between renewals of this sender's claims (a third of the lease).
        self.heartbeat_every = heartbeat if heartbeat is not None else lease.total_seconds() / 3
        self.limits = RateLimits(
            global_rate=global_rate,
            per_chat_interval=per_chat_interval,
            per_chat_margin=per_chat_margin,
            group_per_minute=group_per_minute,
            group_period=group_period,
            monotonic=monotonic,
        )
        self.gate = RequestGate(self.limits)
        self.gate.install(bot)
        # Sends between the network and their record: what a kill -9 may repeat (attempt.py).
        self.slots = SendSlots(sends_in_flight)
        self.delivery = RowDelivery(
            bot,
            self.records,
            self.limits,
            self.gate,
            self.slots,
            # None: rows are sent whatever their audience (the application passes admin_ids).
            recipient_check=recipient_check,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_attempts=max_attempts,
            team_chat_id=team_chat_id,
            on_chat_migrated=on_chat_migrated,
            on_send=on_send,  # each attempt's outcome, for metrics
        )
        self._wake = asyncio.Event()
        # Set while the loop waits for wake() or its timeout (tests wait on it, not on time).
        self.idle = asyncio.Event()
        self._progress = asyncio.Event()
        self._stopping = False
        self._chats: dict[int, _ChatQueue] = {}
        self._in_flight = 0
        self._run_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None

    @property
    def sent_count(self) -> int:
        return self.delivery.sent_count

    @property
    def dead_count(self) -> int:
        return self.delivery.dead_count

    @property
    def team_chat_id(self) -> int | None:
        """TEAM_CHAT_ID, or the supergroup it became (followed by the sender)."""
        return self.delivery.team_chat_id

    # ------------------------------------------------------------------ control

    def wake(self) -> None:
        """Look at the outbox now (a row was queued). Safe to call from any handler."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._stopping = False
        self._run_task = asyncio.create_task(self.run(), name="outbox-sender")
        self._heartbeat_task = asyncio.create_task(self._heartbeat(), name="outbox-heartbeat")
        return self._run_task

    def held_rows(self) -> list[OutboxMessage]:
        return [row for queue in self._chats.values() for row in queue.rows]

    async def renew_claims(self) -> int:
        """One heartbeat: every claim of this sender runs one lease from now."""
        return await self.records.renew(self.held_rows())

    async def _heartbeat(self) -> None:
        self.records.renewing = True
        try:
            while not self._stopping:
                await asyncio.sleep(self.heartbeat_every)  # a timer, not a synchronisation
                try:
                    await self.renew_claims()
                except Exception as exc:  # the next beat tries again; the gate re-checks
                    log.warning("outbox_heartbeat_failed error=%s", type(exc).__name__)
        finally:
            self.records.renewing = False

    async def run_once(self) -> int:
        """Claim what is due now and deliver it to the end (tests on a fake clock, tools);
        how many rows were claimed. Not while ``run`` is running."""
        claimed = await self._claim()
        while tasks := [q.task for q in self._chats.values() if q.task and not q.task.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)
        return claimed

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming, let sends in progress finish briefly, release what is left."""
        self._stopping = True
        self._wake.set()
        tasks = [q.task for q in self._chats.values() if q.task is not None]
        if self._run_task is not None:
            tasks.append(self._run_task)
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            tasks.append(self._heartbeat_task)
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
                await self.records.release(leftovers)

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
                if self._in_flight == 0 and await self.records.next_due_at() is None:
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
        rows = await self.records.claim(min(room, self.batch_size), held)
        for row in rows:
            self._in_flight += 1
            queue = self._chats.setdefault(row.chat_id, _ChatQueue())
            queue.rows.append(row)
            if queue.task is None or queue.task.done():
                queue.task = asyncio.create_task(self._chat_worker(row.chat_id))
        return len(rows)

    async def _idle_timeout(self) -> float:
        try:
            next_due = await self.records.next_due_at()
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
                keep_going = await self.delivery.deliver(row)
            except Exception as exc:  # a bug or a database error: the lease will retry it
                log.error(
                    "outbox_worker_error row_id=%s chat_id=%s error=%s",
                    row.id, row.chat_id, type(exc).__name__,
                )
                keep_going = False
                with contextlib.suppress(Exception):
                    await self.records.reschedule(
                        row,
                        self.delivery.backoff((row.failures or 0) + 1),
                        type(exc).__name__,
                        failed=True,
                    )
            queue.rows.popleft()
            self._in_flight -= 1
            self._progress.set()
            self._wake.set()
            if not keep_going and queue.rows:
                # Nothing of this chat may overtake the row that failed: hand the rest back.
                rest = list(queue.rows)
                queue.rows.clear()
                self._in_flight -= len(rest)
                await self.records.release(rest)
        if not queue.rows and self._chats.get(chat_id) is queue:
            del self._chats[chat_id]
        self._progress.set()
        self._wake.set()
