"""The life of the emulator's consultations: statuses moving by themselves, the history,
calls, charges and reports they leave, and the notification GET after each change."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from api_client.logsafe import describe

from .config import SandboxConfig
from .records import (
    CallbackRecord,
    CallEntry,
    NotificationRecord,
    StatusEntry,
    TimelineEntry,
    api_time,
    new_id,
)
from .seed import JSON, LONG_REPORT_DOCTOR_ID, callback_type, long_report, short_report

log = logging.getLogger("api_client.sandbox")


class SandboxLife:
    """Status machinery of ``Sandbox`` (``state.py``), whose ``__init__`` sets these."""

    config: SandboxConfig
    doctors: dict[int, JSON]
    callbacks: dict[str, CallbackRecord]
    notifications: list[NotificationRecord]
    _notified: set[asyncio.Future[None]]
    _rng: random.Random
    _seq: int
    _reports: dict[str, str]
    _life: dict[str, asyncio.Task[None]]
    _background: set[asyncio.Task[Any]]
    _session: aiohttp.ClientSession | None

    # ------------------------------------------------------------------ time, ids
    def now(self) -> datetime:
        return self.config.now().astimezone(UTC)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------------ status machinery
    def _append_status(
        self, record: CallbackRecord, status: str, at: datetime, actor: str | None = None
    ) -> None:
        if actor is None:
            if status in ("Processing", "Processed"):
                actor = "Doctor"
            elif status == "Unsuccessful":
                # "Did not take place": the patient did not answer (terminate passes System).
                actor = "Patient"
            else:
                actor = "System"
        record.statuses.append(StatusEntry(new_id(), status, actor, at))
        if status == "Processing":
            record.timeline.append(
                TimelineEntry(new_id(), "Accepted", "Врач принял консультацию", at, None)
            )
        elif status in ("PostProcessing", "Processed"):
            self._ensure_call(record, at, successful=True)
        if status == "Processed":
            if record.report is None:
                record.report = (self._report_text(record), at)
            if not any(t.type == "Ended" for t in record.timeline):
                record.timeline.append(
                    TimelineEntry(new_id(), "Ended", "Консультация завершена", at, None)
                )
            if not record.transactions:
                self._charge(record, at)
        elif status == "Unsuccessful" and actor == "Patient":
            self._ensure_call(record, at, successful=False)
            record.timeline.append(TimelineEntry(new_id(), "Ended", "Пациент не ответил", at, None))

    def _ensure_call(self, record: CallbackRecord, at: datetime, *, successful: bool) -> None:
        if any(c.successful == successful for c in record.calls):
            return
        if successful:
            seconds = self._rng.randint(180, 900)
            if record.duration_min is not None:
                seconds = min(seconds, record.duration_min * 60)
            started = at - timedelta(seconds=seconds)
            record.calls.append(CallEntry(new_id(), "Doctor", seconds, started, True))
        else:
            record.calls.append(CallEntry(new_id(), "Patient", 0, at, False))

    def _charge(self, record: CallbackRecord, at: datetime) -> None:
        ctype = callback_type(self.doctors.get(record.doctor_id, {})) or {}
        cost = ctype.get("cost") or {"amount": 0, "currency": {"id": "RUB", "name": "Рубль"}}
        seconds = sum(c.duration for c in record.calls if c.successful)
        minutes = max(1, -(-seconds // 60))
        record.transactions.append(
            {
                "amount": {"amount": cost["amount"] * minutes, "currency": cost["currency"]},
                "createdAtUtc": api_time(at),
                "completedAtUtc": api_time(at),
                "operation": {"id": "Payment", "name": "Оплата консультации"},
            }
        )

    def _report_text(self, record: CallbackRecord) -> str:
        if record.id in self._reports:
            return self._reports[record.id]
        if record.doctor_id == LONG_REPORT_DOCTOR_ID:
            return long_report()
        return short_report(self._rng)

    def _next_status(self, record: CallbackRecord) -> str | None:
        status = record.status
        if status == "Registered":
            if record.begin_at is not None and record.begin_at > self.now():
                return "Delayed"
            return "PreProcessing"
        if status == "Delayed":
            return "PreProcessing"
        if status == "PreProcessing":
            return "Processing"
        if status == "Processing":
            return "PostProcessing" if record.will_succeed else "Unsuccessful"
        if status == "PostProcessing":
            return "Processed"
        return None

    def _ensure_life(self, record: CallbackRecord) -> None:
        if self.config.pace is None or record.is_final or record.id in self._life:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # created outside a loop (e.g. seeded before start): stays still
        task = loop.create_task(self._live(record.id), name=f"sandbox-life-{record.id}")
        self._life[record.id] = task
        task.add_done_callback(functools.partial(self._life_done, record.id))

    def _life_done(self, callback_id: str, task: asyncio.Task[None]) -> None:
        if self._life.get(callback_id) is task:
            del self._life[callback_id]
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            # Types and places only: the sandbox's records hold (demo) patient data.
            log.error("sandbox: life of %s failed: %s", callback_id, describe(exc))

    def _stop_life(self, callback_id: str) -> None:
        task = self._life.pop(callback_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _live(self, callback_id: str) -> None:
        pace = self.config.pace or 0.0
        while True:
            record = self.callbacks[callback_id]
            if self._next_status(record) is None:
                return
            if self._waits_for_begin(record) and record.begin_at is not None:
                remaining = (record.begin_at - self.now()).total_seconds()
                # Re-read the injected clock in short steps: tests may move it.
                await self.config.sleep(min(remaining, max(pace, 0.05)))
                continue
            await self.config.sleep(pace)
            # The status may have changed during the sleep (set_status, terminate): the
            # step goes on from the status as it is now, never from the one before the
            # sleep, which would move a consultation backwards.
            if record.is_final or self._waits_for_begin(record):
                continue
            nxt = self._next_status(record)
            if nxt is None:
                return
            self._append_status(record, nxt, self.now())
            await self._fire(record)

    def _waits_for_begin(self, record: CallbackRecord) -> bool:
        """Delayed with its beginAtUtc still ahead: the life waits for the clock."""
        return (
            record.status == "Delayed"
            and record.begin_at is not None
            and record.begin_at > self.now()
        )

    # ------------------------------------------------------------------ notifications
    async def _fire(self, record: CallbackRecord) -> int | None:
        """Send the plain GET (no parameters, no body); failures are logged, not raised."""
        url = record.notification_url
        if not url:
            return None
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.notify_timeout)
            )
        try:
            async with self._session.get(url, allow_redirects=False) as response:
                await response.read()
                http_status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The URL carries the receiver's secret token: log the consultation id only.
            log.warning("sandbox: notification for %s failed: %s", record.id, type(exc).__name__)
            self._notification_done(
                NotificationRecord(record.id, record.status, None, type(exc).__name__)
            )
            return None
        if http_status >= 400:
            log.warning("sandbox: notification for %s answered %s", record.id, http_status)
        self._notification_done(NotificationRecord(record.id, record.status, http_status, None))
        return http_status

    def _notification_done(self, note: NotificationRecord) -> None:
        self.notifications.append(note)
        for waiter in self._notified:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_notification(
        self, match: Callable[[NotificationRecord], bool]
    ) -> NotificationRecord:
        """The first fired GET (answered or failed) that ``match``es, waiting for it if
        none has been yet: a test's way to know the receiver has served it (bound it with
        a timeout)."""
        while True:
            for note in self.notifications:
                if match(note):
                    return note
            waiter = asyncio.get_running_loop().create_future()
            self._notified.add(waiter)
            try:
                await waiter
            finally:
                self._notified.discard(waiter)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` as a task owned by the sandbox (cancelled by close())."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
