"""The emulator's state, its life (statuses moving by themselves) and its control API."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Coroutine, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from .config import SandboxConfig
from .faults import FaultBook
from .records import (
    CallbackRecord,
    CallEntry,
    NotificationRecord,
    RequestRecord,
    SandboxError,
    StatusEntry,
    TimelineEntry,
    api_time,
    new_id,
    normalize_status,
)
from .render import callback_json, doctor_json
from .seed import (
    DISABLED_DOCTOR_ID,
    FINAL_STATUSES,
    JSON,
    LONG_REPORT_DOCTOR_ID,
    STATUS_NUMBER,
    STATUS_ORDER,
    build_doctors,
    callback_type,
    long_report,
    patient_name,
    patient_phone,
    short_report,
)
from .tokens import TokenBook

log = logging.getLogger("api_client.sandbox")


class Sandbox:
    """State and Python control API of the partner API emulator.

    Create it anywhere; its asyncio tasks (status life, background notifications) start on
    demand inside the running loop and are cancelled by `close()`.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.doctors: dict[int, JSON] = build_doctors()
        self.callbacks: dict[str, CallbackRecord] = {}
        self.requests: list[RequestRecord] = []
        self.received_attachments: dict[str, tuple[str, str, bytes]] = {}
        self.notifications: list[NotificationRecord] = []
        self.faults = FaultBook()
        self.tokens = TokenBook(self.config.required_token, self.config.sms_code)
        self._rng = random.Random(self.config.seed)
        self._seq = 0
        self._reports: dict[str, str] = {}
        self._life: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closing: asyncio.Event | None = None

    # ------------------------------------------------------------------ time, ids
    def now(self) -> datetime:
        return self.config.now().astimezone(UTC)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------------ auth
    @property
    def last_sms_code(self) -> str | None:
        """The code the last validation-code request "sent" by SMS."""
        return self.tokens.last_sms_code

    def token_valid(self, token: str | None) -> bool:
        return self.tokens.valid(token)

    def expire_token(self, token: str) -> None:
        """Make `token` answer 403 oauth from now on (to exercise the client's refresh)."""
        self.tokens.expire(token)

    def issue_tokens(self) -> JSON:
        """A fresh valid token pair, as /token would answer."""
        return self.tokens.issue()

    # ------------------------------------------------------------------ consultations
    def get_record(self, callback_id: str) -> CallbackRecord:
        record = self.callbacks.get(callback_id)
        if record is None:
            raise SandboxError(404, "not_found", "callbackrequest", "Consultation not found.")
        return record

    def get_doctor(self, doctor_id: int) -> JSON:
        doctor = self.doctors.get(doctor_id)
        if doctor is None:
            raise SandboxError(404, "not_found", "doctor", "Doctor not found.")
        return doctor

    def start_callback(
        self,
        *,
        doctor_id: int,
        phone: tuple[str, str],
        patient_full_name: str | None,
        begin_at: datetime | None = None,
        duration_min: int | None = None,
        notification_url: str | None = None,
        attachment: tuple[str, str, bytes] | None = None,
    ) -> CallbackRecord:
        """Create a consultation as start-callback does (arguments already validated)."""
        doctor = self.get_doctor(doctor_id)
        ctype = callback_type(doctor)
        if ctype is None or ctype.get("isDisabled"):
            raise SandboxError(
                409,
                "conflict",
                "consultationType",
                "Callback consultations are disabled for this doctor.",
            )
        if not ctype.get("isAvailable", True):
            raise SandboxError(
                400,
                "limit_exceeded",
                "doctor",
                "The doctor cannot take callback consultations now.",
            )
        now = self.now()
        record = CallbackRecord(
            id=new_id(),
            seq=self._next_seq(),
            doctor_id=doctor_id,
            phone=phone,
            patient_name=patient_full_name,
            created_at=now,
            begin_at=begin_at,
            duration_min=duration_min,
            notification_url=notification_url,
            will_succeed=self._rng.random() >= self.config.unsuccessful_share,
        )
        self._append_status(record, "Registered", now)
        if attachment is not None:
            filename, content_type, content = attachment
            self.received_attachments[record.id] = attachment
            record.attachments.append(
                {
                    "id": new_id(),
                    "url": f"https://sandbox.invalid/media/{record.id}/{filename}",
                    "name": filename,
                    "mime": content_type,
                    "size": len(content),
                    "image": None,
                }
            )
        self.callbacks[record.id] = record
        log.info("sandbox: consultation %s started with doctor %s", record.id, doctor_id)
        self._ensure_life(record)
        return record

    def list_callbacks(
        self,
        *,
        ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
        order: str = "Created",
        asc: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[CallbackRecord], int]:
        found: Iterable[CallbackRecord] = self.callbacks.values()
        if ids:
            wanted_ids = set(ids)
            found = (r for r in found if r.id in wanted_ids)
        if statuses:
            wanted_statuses = set(statuses)
            found = (r for r in found if r.status in wanted_statuses)
        matching = list(found)
        if order == "Status":
            matching.sort(
                key=lambda r: (STATUS_NUMBER.get(r.status, 0), r.created_at, r.seq),
                reverse=not asc,
            )
        else:
            matching.sort(key=lambda r: (r.created_at, r.seq), reverse=not asc)
        return matching[offset : offset + limit], len(matching)

    def terminate(self, callback_id: str) -> CallbackRecord:
        """Terminate a consultation (Unsuccessful); a final one → 409 conflict.

        The notification GET is not sent here: callers decide whether to await it.
        """
        record = self.get_record(callback_id)
        if record.is_final:
            raise SandboxError(
                409, "conflict", "callbackrequest", "The consultation is already finished."
            )
        now = self.now()
        self._stop_life(record.id)
        self._append_status(record, "Unsuccessful", now, actor="System")
        record.timeline.append(
            TimelineEntry(new_id(), "Terminated", "Прервана партнёром", now, None)
        )
        log.info("sandbox: consultation %s terminated", record.id)
        return record

    def set_report(self, callback_id: str, text: str) -> None:
        """Use `text` as the conclusion (now if Processed, else when it gets there)."""
        record = self.get_record(callback_id)
        self._reports[callback_id] = text
        if record.report is not None or record.status == "Processed":
            at = record.report[1] if record.report else self.now()
            record.report = (text, at)

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
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox: life of %s failed", callback_id, exc_info=task.exception())

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
            self.notifications.append(
                NotificationRecord(record.id, record.status, None, type(exc).__name__)
            )
            return None
        if http_status >= 400:
            log.warning("sandbox: notification for %s answered %s", record.id, http_status)
        self.notifications.append(NotificationRecord(record.id, record.status, http_status, None))
        return http_status

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` as a task owned by the sandbox (cancelled by close())."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ control API
    async def set_status(
        self, callback_id: str, *statuses: Any, notify: bool = True
    ) -> CallbackRecord:
        """Append each status to the history now, then fire ONE notification GET and
        return after it completed (several statuses = changes passed between two looks)."""
        record = self.get_record(callback_id)
        if not statuses:
            raise ValueError("give at least one status")
        for status in statuses:
            self._append_status(record, normalize_status(status), self.now())
        if record.is_final:
            self._stop_life(record.id)
        if notify:
            await self._fire(record)
        return record

    async def notify(self, callback_id: str) -> int | None:
        """Fire the notification GET again without any change (a duplicate)."""
        return await self._fire(self.get_record(callback_id))

    def inject_fault(self, route: str, kind: str, count: int = 1, **params: Any) -> None:
        """Apply fault `kind` to the next `count` requests of `route`.

        Kinds: "503" (params: body="" for an empty body), "500_html", "429" (retry_after=1),
        "timeout" (hold=config.fault_hold; the request IS processed), "drop" (processed,
        then the connection is closed unanswered), "error" (status, type, value, description).
        """
        self.faults.add(route, str(kind), count, **params)

    def clear_requests(self) -> None:
        self.requests.clear()

    def requests_for(self, route: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.route == route]

    def seed_callbacks(
        self,
        n: int,
        rng: random.Random | int | None = None,
        *,
        seed: int | None = None,
        phone: str | tuple[str, str] | None = None,
        phone_every: int = 3,
        days: float = 14.0,
    ) -> list[str]:
        """Create `n` consultations in every status (round-robin), created over the past
        `days`, with varied doctors and patients; every `phone_every`-th one (the first
        included) gets `phone` ("+79099708593" or ("7", "9099708593")) when given."""
        if isinstance(rng, random.Random):
            r = rng
        else:
            base = rng if rng is not None else seed
            r = random.Random(base if base is not None else self.config.seed + 1)
        fixed_phone = _split_phone(phone) if phone is not None else None
        doctor_ids = [d for d in self.doctors if d != DISABLED_DOCTOR_ID]
        now = self.now()
        paths: dict[str, tuple[str, ...]] = {
            "Registered": ("Registered",),
            "PreProcessing": ("Registered", "PreProcessing"),
            "Delayed": ("Registered", "Delayed"),
            "Processing": ("Registered", "PreProcessing", "Processing"),
            "PostProcessing": ("Registered", "PreProcessing", "Processing", "PostProcessing"),
            "Processed": (
                "Registered",
                "PreProcessing",
                "Processing",
                "PostProcessing",
                "Processed",
            ),
            "Unsuccessful": ("Registered", "PreProcessing", "Processing", "Unsuccessful"),
        }
        created_ids: list[str] = []
        for i in range(n):
            target = STATUS_ORDER[i % len(STATUS_ORDER)]
            final = target in FINAL_STATUSES
            if final:
                created = now - timedelta(minutes=r.uniform(60, days * 24 * 60))
            else:
                created = now - timedelta(minutes=r.uniform(2, 50))
            use_fixed = fixed_phone is not None and i % max(phone_every, 1) == 0
            record = CallbackRecord(
                id=new_id(),
                seq=self._next_seq(),
                doctor_id=r.choice(doctor_ids),
                phone=fixed_phone if use_fixed and fixed_phone else patient_phone(r),
                patient_name=patient_name(r),
                created_at=created,
                begin_at=now + timedelta(hours=r.uniform(1, 48)) if target == "Delayed" else None,
                duration_min=r.choice((None, 10, 15, 30)),
                # An Unsuccessful one: the patient did not answer, or terminated by staff.
                will_succeed=not (target == "Unsuccessful" and r.random() < 0.7),
            )
            at = created
            for step in paths[target]:
                if step == "Unsuccessful" and record.will_succeed:
                    self._append_status(record, step, at, actor="System")
                    record.timeline.append(
                        TimelineEntry(new_id(), "Terminated", "Прервана партнёром", at, None)
                    )
                else:
                    self._append_status(record, step, at)
                at += timedelta(minutes=r.uniform(0.2, 1.5))
            self.callbacks[record.id] = record
            created_ids.append(record.id)
            self._ensure_life(record)
        return created_ids

    # ------------------------------------------------------------------ rendering
    def callback_json(self, record: CallbackRecord) -> JSON:
        return callback_json(record, self.doctors.get(record.doctor_id))

    def doctor_json(self, doctor: JSON) -> JSON:
        return doctor_json(doctor)

    # ------------------------------------------------------------------ life cycle
    def closing_event(self) -> asyncio.Event:
        if self._closing is None:
            self._closing = asyncio.Event()
        return self._closing

    async def hold(self, seconds: float) -> None:
        """Wait `seconds`, or less if the sandbox is closing (so shutdown never hangs)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing_event().wait(), seconds)

    def reopen(self) -> None:
        """Make a closed sandbox usable again (a server restarted over the same state)."""
        if self._closing is not None and self._closing.is_set():
            self._closing = None

    def begin_close(self) -> None:
        self.closing_event().set()

    async def close(self) -> None:
        """Cancel every task the sandbox owns and close its HTTP session."""
        self.begin_close()
        tasks = [*self._life.values(), *self._background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._life.clear()
        self._background.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None


def _split_phone(phone: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(phone, tuple):
        return phone
    import phonenumbers  # a project dependency; only needed for this convenience

    parsed = phonenumbers.parse(phone, "RU")
    return str(parsed.country_code), str(parsed.national_number)
