"""Reconcile: the periodic look that makes a lost web-hook cost one interval, not a status.

Every RECONCILE_INTERVAL_SECONDS the job fetches every non-final consultation through
`get_many` (batches of 40, bounded by URL length inside the client; `IN_FLIGHT` of them on
their way at once) and feeds each batch's answers, as they arrive, into the same status
path as the web-hook worker (`apply_fetched`: one transaction per batch, one at a time), so
a change seen here and later through a late GET (or the other way round) is told once.

It also settles starts whose answer was lost (`unknown`, and `starting` rows left behind
by a crash mid-call): the wizard's matcher looks through get-all (newest first, same
doctor, phone, created within a minute of the attempt). A match is bound and followed like
any other consultation; no match after `unknown_bound` marks the attempt failed and tells
the coordinator, through the outbox, that they may start it again. Nothing here ever calls
start-callback.

The job runs on the bot's one APScheduler (bot/scheduler.py, in-memory job store): the
schedule is built at start-up from the settings (nothing pickled); the job's callable holds
only the long-lived factories and opens its own database session per run. A failing run is
logged with its counts and the next tick simply tries again; only a run with no failed
batch and no failed look-up counts as a reconcile for /health (``on_run``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.errors import PartnerApiError
from api_client.logsafe import describe
from bot.notifications.messages import (
    ConsultationView,
    Rendered,
    markup_json,
    render_start_confirmed,
    render_start_failed,
    render_start_interrupted,
)
from bot.notifications.worker import apply_fetched
from bot.scheduler import add_interval_job
from bot.services.consultation_start import bind_start
from bot.services.recipients import coordinator_recipient
from bot.services.start_outcome import find_started
from bot.services.status_changes import StatusProcessor
from bot.shutdown import raise_if_stopping
from storage.conflicts import TransactionConflict
from storage.enums import Audience, ConsultationState, EventSource
from storage.models import Consultation
from storage.repositories import ConsultationRepository, OutboxRepository

log = logging.getLogger(__name__)

JOB_ID = "reconcile"

# get-all requests of one pass in flight at once. While one batch's answers are applied the
# next ones are on their way, which hides the partner's latency; more would only queue
# behind the one transaction applying, hold more answers in memory, and crowd the partner
# and the hooks that share the event loop and the database with the pass.
IN_FLIGHT = 4


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ReconcileCounts:
    checked: int = 0
    recorded: int = 0
    queued: int = 0
    failed_batches: int = 0
    bound: int = 0
    gave_up: int = 0
    pending: int = 0
    unsettled_errors: int = 0
    crashed: bool = False  # the pass stopped on an exception

    @property
    def succeeded(self) -> bool:
        """Every batch and every lost start was looked up at the partner."""
        return self.failed_batches == 0 and self.unsettled_errors == 0 and not self.crashed

    @property
    def result(self) -> str:
        """For metrics: ``ok``, ``partial`` (a batch or a lost start not looked up), ``failed``."""
        if self.crashed:
            return "failed"
        return "ok" if self.succeeded else "partial"


@dataclass
class Reconciler:
    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    processor: StatusProcessor
    outbox_wake: Callable[[], None] = lambda: None
    on_run: Callable[[datetime, ReconcileCounts], None] | None = None
    # (seconds, counts) after every pass, whatever its result (the duration histogram).
    on_timed: Callable[[float, ReconcileCounts], None] | None = None
    batch_size: int = 40
    in_flight: int = IN_FLIGHT
    # Awaited before each batch is fetched and applied: the status worker's wait_idle, so
    # hooks go first (bounded: the pass is only delayed, never stopped).
    yield_to: Callable[[], Awaitable[None]] | None = None
    # How long an `unknown` start may stay unresolved before it is declared failed
    # (START_UNKNOWN_BOUND_SECONDS).
    unknown_bound: timedelta = timedelta(minutes=5)
    # A `starting` row older than this was left by a crash mid-call: its outcome is unknown
    # (START_STALE_AFTER_SECONDS).
    starting_stale_after: timedelta = timedelta(minutes=2)
    # The longest a lost start stays unknown (the bound plus one tick): told to its coordinator.
    settle_within: timedelta = timedelta(minutes=8)
    now: Callable[[], datetime] = _utcnow
    last_counts: ReconcileCounts = field(default_factory=ReconcileCounts)
    _running: set[asyncio.Task[Any]] = field(default_factory=set)

    async def run(self) -> ReconcileCounts:
        """One reconcile pass (the scheduled job; tests call it directly)."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        started = time.perf_counter()
        try:
            counts = await self._run()
            if self.on_timed is not None:
                self.on_timed(time.perf_counter() - started, counts)
            return counts
        finally:
            if task is not None:
                self._running.discard(task)

    async def cancel_running(self) -> None:
        """Stop a pass in progress (shutdown): its work is redone by the next start-up."""
        tasks = [t for t in self._running if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> ReconcileCounts:
        counts = ReconcileCounts()
        try:
            await self._settle_starts(counts)
            await self._refresh_open(counts)
        except Exception as exc:
            raise_if_stopping(log, "reconcile_cancelled", exc)
            counts.crashed = True
            # Types and places only: a malformed partner answer's text quotes patient data.
            log.error("reconcile_failed counts=%s error=%s", counts, describe(exc))
        else:
            log.info("reconcile_done counts=%s", counts)
            # on_run feeds /health's seconds_since_reconcile: a run in which a batch or a
            # lost start could not be looked up (a partner outage) is not a reconcile, or
            # /health would hide the outage behind a fresh age.
            if self.on_run is not None and counts.succeeded:
                self.on_run(self.now(), counts)
        self.last_counts = counts
        if counts.queued:
            self.outbox_wake()
        return counts

    # -- open consultations ----------------------------------------------------------------

    async def _refresh_open(self, counts: ReconcileCounts) -> None:
        async with self.session_factory() as session:
            open_ids = await ConsultationRepository(session).open_partner_ids()
        batches = [
            open_ids[i : i + self.batch_size] for i in range(0, len(open_ids), self.batch_size)
        ]
        pending = iter(batches)
        applying = asyncio.Lock()

        async def lane() -> None:
            # The lanes share one iterator: each takes the next batch when it is free.
            for batch in pending:
                await self._refresh_batch(batch, applying, counts)

        try:
            async with asyncio.TaskGroup() as lanes:
                for _ in range(min(self.in_flight, len(batches))):
                    lanes.create_task(lane())
        except ExceptionGroup as group:
            # The first unexpected failure (the other lanes were cancelled), as one error.
            raise group.exceptions[0] from None

    async def _refresh_batch(
        self, batch: list[tuple[int, str]], applying: asyncio.Lock, counts: ReconcileCounts
    ) -> None:
        """Fetch one batch (other lanes fetch meanwhile), then apply it as soon as no other
        batch is being applied: one transaction at a time, whatever the lanes."""
        ids = [local_id for local_id, _ in batch]
        try:
            await self._yield()
            callbacks = await self.api.get_many([partner_id for _, partner_id in batch])
            async with applying:
                await self._yield()
                result = await apply_fetched(
                    self.session_factory, self.processor, ids, callbacks, EventSource.RECONCILE
                )
        except (PartnerApiError, TransactionConflict) as exc:
            # One bad batch (a partner outage, or a deadlock with another replica that
            # outlasted its retries) does not stop the others; the next tick retries it.
            counts.failed_batches += 1
            log.warning("reconcile_batch_failed size=%d error=%s", len(ids), type(exc).__name__)
            return
        counts.checked += len(ids)
        counts.recorded += result.recorded
        counts.queued += result.queued
        if result.queued:
            # Now, not at the end of the pass: a long pass must not hold its messages back.
            self.outbox_wake()

    async def _yield(self) -> None:
        if self.yield_to is not None:
            await self.yield_to()

    # -- starts with a lost answer ---------------------------------------------------------

    async def settle_starts(self) -> ReconcileCounts:
        """The settle path alone, once (the start-up step after a crash)."""
        counts = ReconcileCounts()
        await self._settle_starts(counts)
        if counts.queued:
            self.outbox_wake()
        return counts

    async def _settle_starts(self, counts: ReconcileCounts) -> None:
        now = self.now()
        async with self.session_factory() as session:
            repo = ConsultationRepository(session)
            unsettled = await repo.list_in_state(ConsultationState.UNKNOWN)
            unsettled += await repo.list_in_state(
                ConsultationState.STARTING, older_than=now - self.starting_stale_after
            )
        for row in unsettled:
            try:
                await self._settle_one(row, now, counts)
            except PartnerApiError as exc:
                counts.unsettled_errors += 1
                log.warning(
                    "reconcile_settle_failed consultation=%s error=%s",
                    row.id,
                    type(exc).__name__,
                )

    async def _settle_one(self, row: Consultation, now: datetime, counts: ReconcileCounts) -> None:
        attempted = row.start_attempted_at or row.created_at
        if row.doctor_id is None or not row.patient_phone:
            found = None
        else:
            found = await find_started(
                self.api,
                doctor_id=row.doctor_id,
                phone_e164=row.patient_phone,
                attempted_at=attempted,
            )
        async with self.session_factory() as session:
            repo = ConsultationRepository(session)
            if found is not None and await bind_start(
                session, row.id, row.coordinator_id, found, now=now
            ):
                consultation = await repo.get(row.id)
                assert consultation is not None
                result = await self.processor.apply(
                    session, consultation, found, EventSource.RECONCILE
                )
                counts.queued += result.queued
                counts.queued += await self._tell_coordinator(
                    session, consultation, "start-settled", render_start_confirmed_for
                )
                counts.bound += 1
                log.info("reconcile_start_bound consultation=%s", row.id)
            elif now - attempted >= self.unknown_bound:
                await repo.set_state(row.id, ConsultationState.FAILED)
                consultation = await repo.get(row.id)
                assert consultation is not None
                counts.queued += await self._tell_coordinator(
                    session, consultation, "start-failed", render_start_failed_for
                )
                counts.gave_up += 1
                log.info("reconcile_start_failed consultation=%s", row.id)
            else:
                if row.state is ConsultationState.STARTING:
                    # A crash mid-call: its coordinator saw no card; say what is known.
                    await repo.set_state(row.id, ConsultationState.UNKNOWN, now=attempted)
                    consultation = await repo.get(row.id)
                    assert consultation is not None
                    counts.queued += await self._tell_coordinator(
                        session,
                        consultation,
                        "start-interrupted",
                        self._render_interrupted,
                    )
                counts.pending += 1
            await session.commit()

    async def _tell_coordinator(
        self,
        session: AsyncSession,
        consultation: Consultation,
        what: str,
        renderer: Callable[[ConsultationView, StatusProcessor, str, ZoneInfo], Rendered],
    ) -> int:
        # As the access policy sees them now: demoted, or out of ADMIN_IDS, since the start?
        person = await coordinator_recipient(
            session,
            consultation,
            admin_ids=self.processor.admin_ids,
            default_timezone=self.processor.default_timezone,
        )
        if person is None:
            return 0
        view = ConsultationView(
            id=consultation.id,
            partner_id=consultation.partner_id,
            doctor_name=consultation.doctor_name,
            patient_name=consultation.patient_name,
            begin_at=consultation.begin_at,
            duration_min=consultation.duration_min,
            created_at=consultation.start_attempted_at or consultation.created_at,
        )
        rendered = renderer(view, self.processor, person.lang, person.tz)
        queued = await OutboxRepository(session).enqueue(
            person.telegram_id,
            rendered.text,
            reply_markup=markup_json(rendered.reply_markup),
            dedupe_key=f"cons:{consultation.id}:{what}:to:{person.telegram_id}",
            consultation_id=consultation.id,
            audience=Audience.CONSULTATION,
        )
        return 1 if queued else 0

    def _render_interrupted(
        self, view: ConsultationView, processor: StatusProcessor, lang: str, tz: ZoneInfo
    ) -> Rendered:
        attempted = view.created_at or self.now()
        return render_start_interrupted(
            view,
            processor.i18n.translator(lang),
            tz,
            attempted + self.settle_within,
            now=processor.now(),
        )

    # -- scheduling ------------------------------------------------------------------------

    def schedule(self, scheduler: AsyncIOScheduler, interval_seconds: float) -> None:
        """Put the pass on the bot's one scheduler (bot/scheduler.py), rebuilt from the
        settings at start-up: in-memory store, nothing pickled, no per-run arguments."""
        add_interval_job(
            scheduler,
            self.run,
            JOB_ID,
            timedelta(seconds=interval_seconds),
            # The first run soon after start-up: whatever happened while the bot was down.
            timedelta(seconds=min(5.0, interval_seconds)),
            name="reconcile consultations",
        )


def render_start_confirmed_for(
    view: ConsultationView, processor: StatusProcessor, lang: str, tz: ZoneInfo
) -> Rendered:
    return render_start_confirmed(view, processor.i18n.translator(lang))


def render_start_failed_for(
    view: ConsultationView, processor: StatusProcessor, lang: str, tz: ZoneInfo
) -> Rendered:
    return render_start_failed(view, processor.i18n.translator(lang), tz, now=processor.now())
