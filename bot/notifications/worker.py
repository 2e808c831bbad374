"""The status worker: refreshes flagged consultations and queues what people must hear.

The web-hook receiver (and reconcile, and a restart) only flag consultations; this worker
takes the flagged ones in batches (many hits on one consultation coalesce into one fetch),
fetches each batch with ONE `get_many`, and hands every answer to `StatusProcessor.apply`
(bot/services/status_changes.py), the single path that web-hooks and reconcile share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.errors import PartnerApiError
from api_client.logsafe import describe
from api_client.models import Callback
from bot.notifications.outage import OutageLog
from bot.services.status_changes import ApplyResult, StatusProcessor
from storage.conflicts import TransactionConflict, run_in_transaction
from storage.enums import EventSource
from storage.repositories.consultations import ConsultationRepository

log = logging.getLogger(__name__)


async def fetch_and_apply(
    session_factory: async_sessionmaker[AsyncSession],
    api: PartnerApiClient,
    processor: StatusProcessor,
    consultation_ids: Iterable[int],
    source: EventSource,
) -> ApplyResult:
    """Fetch these consultations with one `get_many` and apply every answer (one commit).

    API errors propagate (the caller puts the ids back or waits for the next tick), and so
    does ``TransactionConflict`` (a deadlock that outlasted its retries).
    """
    async with session_factory() as session:
        partner_ids = await ConsultationRepository(session).partner_ids(consultation_ids)
    if not partner_ids:
        return ApplyResult()
    # No transaction is open while the partner answers.
    callbacks = await api.get_many(list(partner_ids.values()))
    return await apply_fetched(session_factory, processor, partner_ids, callbacks, source)


async def apply_fetched(
    session_factory: async_sessionmaker[AsyncSession],
    processor: StatusProcessor,
    consultation_ids: Iterable[int],
    callbacks: Iterable[Callback],
    source: EventSource,
) -> ApplyResult:
    """Apply fetched answers to these consultations in one transaction: their rows locked
    first, in id order, whatever order the answers came in; run again on a deadlock."""
    wanted = sorted(set(consultation_ids))
    answers = {c.id: c for c in callbacks if c.id}

    async def work(session: AsyncSession) -> ApplyResult:
        rows = await ConsultationRepository(session).lock_many(wanted)
        # Matched by the partner id the row holds now, under the lock.
        pairs = [(row, answers[row.partner_id]) for row in rows if row.partner_id in answers]
        return await processor.apply_many(session, pairs, source)

    return await run_in_transaction(
        session_factory, work, what=f"status_batch source={source.value} size={len(wanted)}"
    )


@dataclass
class StatusWorker:
    """Woken by `wake()` (an asyncio.Event); also looks at the flags every `poll_interval`
    seconds, so a flag set by another replica or before a restart is never stranded."""

    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    processor: StatusProcessor
    outbox_wake: Callable[[], None] = lambda: None
    batch_size: int = 40
    poll_interval: float = 30.0
    error_backoff: float = 5.0
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    # Set while no hook's refresh is waiting or running (see wait_idle).
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    runs: int = 0
    _outage: OutageLog = field(default_factory=lambda: OutageLog(log, "partner_api"))

    def __post_init__(self) -> None:
        self._idle.set()

    def wake(self) -> None:
        self._idle.clear()
        self._event.set()

    async def wait_idle(self, within: float = 1.0) -> None:
        """Return once no hook's refresh is waiting or running, or after `within` seconds.

        Reconcile calls it between its batches: a hook then does not queue behind a pass's
        batches on the event loop and the database, and a flood of hooks delays a pass by
        at most `within` per batch."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)

    async def run_once(self) -> int:
        """Drain the flagged consultations; the number of consultations refreshed."""
        refreshed = 0
        deferred: list[int] = []
        try:
            while True:
                async with self.session_factory() as session:
                    repo = ConsultationRepository(session)
                    ids = await repo.take_needing_refresh(self.batch_size)
                    if not ids:
                        break
                    rows = await repo.get_many(ids)
                    await session.commit()
                # The hook may come before the start call's answer bound the partner id:
                # keep the flag for the next look instead of dropping it.
                partner_ids = {i: row.partner_id for i, row in rows.items() if row.partner_id}
                deferred += [i for i in rows if i not in partner_ids]
                ready = sorted(partner_ids)
                if not ready:
                    continue
                try:
                    callbacks = await self.api.get_many(list(partner_ids.values()))
                    result = await apply_fetched(
                        self.session_factory,
                        self.processor,
                        ready,
                        callbacks,
                        EventSource.NOTIFICATION,
                    )
                except PartnerApiError as exc:
                    # Expected while the partner is down: one line per outage, no traceback.
                    self._outage.failed(exc)
                    await self._flag_again(ready)
                    raise
                except TransactionConflict as exc:
                    # Another replica kept colliding with this batch: not an error; the
                    # flags are back and run() tries again after its pause.
                    log.warning(
                        "status_worker_batch_conflict count=%d sqlstate=%s attempts=%d",
                        len(ready),
                        exc.sqlstate,
                        exc.attempts,
                    )
                    await self._flag_again(ready)
                    raise
                except Exception as exc:
                    # Types and places only: a malformed partner answer's text quotes
                    # the patient's name and phone (pydantic's input_value).
                    log.error(
                        "status_worker_batch_failed count=%d error=%s", len(ready), describe(exc)
                    )
                    await self._flag_again(ready)
                    raise
                self._outage.ok()
                refreshed += len(ready)
                if result.queued:
                    self.outbox_wake()
        finally:
            # Also when a batch raised: the held-back ids were taken off too.
            if deferred:
                await self._flag_again(deferred)
        return refreshed

    async def _flag_again(self, ids: list[int]) -> None:
        async with self.session_factory() as session:
            await ConsultationRepository(session).request_refresh(ids)
            await session.commit()

    async def run(self) -> None:
        while True:
            self._event.clear()
            try:
                await self.run_once()
                self.runs += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # Logged in run_once; the flags are back. A pause (not synchronisation) keeps
                # an outage of the partner API from turning into a busy loop.
                self._idle.set()
                await asyncio.sleep(self.error_backoff)
                continue
            if not self._event.is_set():  # no hook came in meanwhile
                self._idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.poll_interval)

    async def __aenter__(self) -> StatusWorker:
        self._task = asyncio.create_task(self.run(), name="status-worker")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
