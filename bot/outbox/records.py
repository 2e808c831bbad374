"""The sender's writes to the outbox rows, each in its own short transaction (a send's own
checks and record: ``attempt``).

At least once: a row is claimed with a lease; a crash before its send is recorded lets the
lease expire and the row is sent again by the next sender. Not twice: a send goes out only
while the database still shows its claim as this sender's (``attempt.SendAttempt``).

Holders: every sender process has a ``holder`` id, ``<instance>:<random>``, recorded with its
claims. A live sender renews all its claims on a heartbeat (``renew``), so the lease can be
short (8 s): a dead holder's rows pass to the other replicas within one lease. At its first
claim a sender releases the claims left by earlier processes of its own ``instance`` name (a
``kill -9``, a crash): with one process that is all of them, so a restart sends at once
instead of waiting out the lease; a row that was sent but not yet marked is repeated once
(at most ``sends_in_flight`` such rows per process).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage
from storage.repositories.app_state import AppStateRepository, chat_migrated_key
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# May the row's recipient still receive it (checked in the session the send is made in)?
RecipientCheck = Callable[[AsyncSession, OutboxMessage], Awaitable[bool]]

NO_ACCESS = "recipient_no_access"


class OutboxRecords:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        lease: timedelta,
        *,
        instance: str = "main",
        inline_wait_max: timedelta = timedelta(seconds=120),
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.lease = lease
        self.instance = instance
        self.holder = f"{instance}:{uuid.uuid4().hex[:16]}"
        # A 429 waited out inline while the heartbeat keeps the claim (else rescheduled).
        self.inline_wait_max = inline_wait_max
        self.renewing = False  # set while the sender's heartbeat runs
        self._released_previous = False

    async def claim(
        self, limit: int, exclude_ids: list[int]
    ) -> list[OutboxMessage]:
        if not self._released_previous:
            await self.release_previous()
        async with self.session_factory() as session:
            rows = await OutboxRepository(session).claim_due(
                self.clock(), limit, self.lease, exclude_ids=exclude_ids, holder=self.holder
            )
            await session.commit()
        return rows

    async def release_previous(self) -> int:
        """Once, before the first claim: the claims of earlier runs of this instance."""
        async with self.session_factory() as session:
            count = await OutboxRepository(session).release_claims_of(
                f"{self.instance}:", keep=self.holder, now=self.clock()
            )
            await session.commit()
        self._released_previous = True
        if count:
            log.warning(
                "outbox_claims_released instance=%s rows=%s (left by a previous run)",
                self.instance, count,
            )
        return count

    async def renew(self, rows: list[OutboxMessage]) -> int:
        """The heartbeat: every claim this sender holds runs one lease from now (``rows``,
        those it holds in memory, are updated to match)."""
        until = self.clock() + self.lease
        async with self.session_factory() as session:
            count = await OutboxRepository(session).renew_claims(self.holder, until)
            await session.commit()
        for row in rows:
            if row.claimed_until is not None:
                row.claimed_until = until
        return count

    def may_wait_inline(self, row: OutboxMessage, seconds: float) -> bool:
        """May a 429's ``seconds`` be waited out holding the claim (else: rescheduled)?"""
        if self.lease_left(row, margin=seconds + 5):
            return True
        return self.renewing and seconds + 5 < self.inline_wait_max.total_seconds()

    async def next_due_at(self) -> datetime | None:
        async with self.session_factory() as session:
            return await OutboxRepository(session).next_due_at()

    def lease_left(self, row: OutboxMessage, margin: float = 2.0) -> bool:
        if row.claimed_until is None:
            return True
        return self.clock() + timedelta(seconds=margin) < row.claimed_until

    async def mark_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        async with self.session_factory() as session:
            await OutboxRepository(session).mark_sent(row.id, message_id, now=self.clock())
            await session.commit()

    async def mark_dead(self, row: OutboxMessage, error: str) -> None:
        log.warning("outbox_dead row_id=%s chat_id=%s reason=%s",
                    row.id, row.chat_id, error.split(":", 1)[0])
        async with self.session_factory() as session:
            await OutboxRepository(session).mark_dead(row.id, error, now=self.clock())
            await session.commit()

    async def chat_dead(self, row: OutboxMessage, error: str, *, deactivate: bool) -> int:
        """Every pending row of the chat dead (and the user inactive); how many rows."""
        log.warning("outbox_chat_dead chat_id=%s reason=%s", row.chat_id, error.split(":", 1)[0])
        async with self.session_factory() as session:
            count = await OutboxRepository(session).mark_chat_dead(
                row.chat_id, error, now=self.clock()
            )
            if deactivate and row.chat_id > 0:
                await UserRepository(session).deactivate(row.chat_id)
            await session.commit()
        return count

    async def reschedule(
        self, row: OutboxMessage, delay: float, error: str, *, failed: bool = False
    ) -> None:
        """Try again in ``delay``; ``failed``: the send failed (one more in ``failures``)."""
        at = self.clock() + timedelta(seconds=delay)
        async with self.session_factory() as session:
            await OutboxRepository(session).reschedule(row.id, at, error, failed=failed)
            await session.commit()
        if failed:
            row.failures = (row.failures or 0) + 1

    async def release(self, rows: list[OutboxMessage]) -> None:
        now = self.clock()
        async with self.session_factory() as session:
            repo = OutboxRepository(session)
            for row in rows:
                await repo.reschedule(row.id, now, row.last_error)
            await session.commit()

    async def retarget(self, old: int, new: int, *, announce: bool) -> None:
        async with self.session_factory() as session:
            await OutboxRepository(session).retarget_chat(old, new)
            if announce:
                # With the rows, in one transaction: the next start-up reads it (bot/app/runtime.py)
                # and queues the team chat's lines to the new id straight away.
                await AppStateRepository(session).set(chat_migrated_key(old), str(new))
            await session.commit()
