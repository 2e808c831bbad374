"""The emulator's state and its control API.

The life of consultations (statuses moving by themselves, notifications) is in
``life.py``, seeding in ``seeding.py``; ``Sandbox`` puts them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiohttp

from .config import SandboxConfig
from .faults import FaultBook
from .records import (
    CallbackRecord,
    NotificationRecord,
    RequestRecord,
    SandboxError,
    TimelineEntry,
    new_id,
    normalize_status,
)
from .render import callback_json, doctor_json
from .seed import JSON, STATUS_NUMBER, build_doctors, callback_type
from .seeding import SandboxSeeding
from .tokens import TokenBook

log = logging.getLogger("api_client.sandbox")


class Sandbox(SandboxSeeding):
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
        self._notified: set[asyncio.Future[None]] = set()
        self.faults = FaultBook()
        self.tokens = TokenBook(self.config.required_token, self.config.sms_code)
        self._rng = random.Random(self.config.seed)
        self._seq = 0
        self._reports: dict[str, str] = {}
        self._life: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closing: asyncio.Event | None = None

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
            # Looked up by id, not a scan of every record: a get-all of 40 ids costs the
            # same with 10,000 consultations as with 10 (a real API's index does that).
            found = [self.callbacks[i] for i in dict.fromkeys(ids) if i in self.callbacks]
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
