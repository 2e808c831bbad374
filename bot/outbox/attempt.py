"""One send of an outbox row, from its last checks to its record, in one database session.

A crash repeats what reached Telegram but was not yet recorded as sent. So the record
follows Telegram's answer at once, in the session the send began with (no wait for a
pooled connection in between), and the sends between the network and their record are
bounded per process (``SendSlots``, ``OUTBOX_SENDS_IN_FLIGHT``): a ``kill -9`` repeats at
most that many messages. A slot is taken only once the rate windows granted the send
(``gate``) and given back when the row is recorded or the send failed: no wait (pacing, a
429's Retry-After, a backoff) ever holds one.

In the session, right before the network: the recipient's right now (a refused row is dead
and audited, never sent) and the claim — still this sender's (else ``LeaseLost``), extended
and committed at once when under half of it is left. Both are reads otherwise, so no lock
is held across the network call (SQLite's write lock, a PostgreSQL row the heartbeat
renews).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.limits import wait_out
from bot.outbox.records import NO_ACCESS, OutboxRecords, RecipientCheck
from storage.models import OutboxMessage
from storage.repositories.audit import AuditRepository
from storage.repositories.outbox import OutboxRepository

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The row's claim is no longer this sender's: another sender may be sending it."""


class RecipientRefused(Exception):
    """The recipient may no longer receive the row: it is dead, audited, never sent."""


class SendSlots:
    """At most ``size`` sends of this process between the network and their record."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("sends in flight: at least 1")
        self.size = size
        self._free = asyncio.Semaphore(size)
        self.busy = 0  # slots taken now (tests read it)

    async def take(self) -> None:
        await self._free.acquire()
        self.busy += 1

    def give_back(self) -> None:
        self.busy -= 1
        self._free.release()


class SendAttempt:
    """``begin`` (by the gate, once the windows granted the send) → the request →
    ``sent`` (the record) → ``close`` (always: the slot and the session given back)."""

    def __init__(
        self,
        row: OutboxMessage,
        records: OutboxRecords,
        slots: SendSlots,
        recipient_check: RecipientCheck | None,
    ) -> None:
        self.row = row
        self._records = records
        self._slots = slots
        self._check = recipient_check
        self._session: AsyncSession | None = None
        self._slot = False

    async def begin(self, pause_left: Callable[[], float]) -> None:
        """Take a slot and a session; check the recipient and the claim in it.
        Raises ``RecipientRefused`` or ``LeaseLost`` (the send must not go out).

        ``pause_left``: a 429 answered while this send waited for its slot pauses it too;
        the pause is waited out without the slot."""
        if self._slot or self._session is not None:
            raise RuntimeError("a send attempt begins once")
        while True:
            await self._slots.take()
            self._slot = True
            wait = pause_left()
            if wait <= 0:
                break
            self._slot = False
            self._slots.give_back()
            await wait_out(wait)
        session = self._session = self._records.session_factory()
        row = self.row
        refused = (
            row.audience is not None
            and self._check is not None
            and not await self._check(session, row)
        )
        if refused:
            await self._drop(session)
            raise RecipientRefused(row.id)
        if not await self._still_held(session):
            log.info("outbox_lease_lost row_id=%s", row.id)
            raise LeaseLost(row.id)

    async def sent(self, message_id: int | None) -> None:
        """Telegram answered: the row is sent, committed before anything else is awaited."""
        session = self._session
        if session is None:  # the request went out without the gate (not the sender's)
            await self._records.mark_sent(self.row, message_id)
            return
        await OutboxRepository(session).mark_sent(
            self.row.id, message_id, now=self._records.clock()
        )
        await session.commit()

    async def close(self) -> None:
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            self._session = None
            if self._slot:
                self._slot = False
                self._slots.give_back()

    async def __aenter__(self) -> SendAttempt:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _still_held(self, session: AsyncSession) -> bool:
        records, row = self._records, self.row
        if row.claimed_until is None:  # not claimed through the records (tools, tests)
            return True
        repo = OutboxRepository(session)
        claim = await repo.claim_of(row.id)
        if claim is None or claim[0] != records.holder or claim[1] is None:
            return False  # sent, dead, released, or claimed by another sender
        row.claimed_until = claim[1]
        if records.lease_left(row, margin=records.lease.total_seconds() / 2):
            return True
        until = records.clock() + records.lease
        if not await repo.extend_claim(row.id, claim[1], until, holder=records.holder):
            await session.rollback()
            return False
        await session.commit()  # not held across the network (see the module's docstring)
        row.claimed_until = until
        return True

    async def _drop(self, session: AsyncSession) -> None:
        row, now = self.row, self._records.clock()
        await OutboxRepository(session).mark_dead(row.id, NO_ACCESS, now=now)
        await AuditRepository(session).add(
            None, "outbox_dropped_no_access", f"outbox:{row.id}", now=now
        )
        await session.commit()
        log.info(
            "outbox_dropped_no_access row_id=%s chat_id=%s consultation_id=%s audience=%s",
            row.id,
            row.chat_id,
            row.consultation_id,
            row.audience,
        )
