from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import utcnow
from storage.enums import Audience
from storage.models import OutboxMessage
from storage.repositories._sql import insert_ignore, rowcount

_ERROR_MAX = 1000

# Dedupe keys of the edits that wipe a purged consultation's messages in Telegram: the
# sender never turns such an edit into a new message (it would be a pointless message), and
# retention counts the ones Telegram refused.
SCRUB_KEY_PREFIX = "scrub:"


def scrub_key(chat_id: int, message_id: int) -> str:
    """One wipe per chat message, however many rows or runs point at it."""
    return f"{SCRUB_KEY_PREFIX}{chat_id}:{message_id}"


def _pending() -> list[Any]:
    return [OutboxMessage.sent_at.is_(None), OutboxMessage.dead == false()]


class OutboxRepository:
    """The durable queue of messages the sender drains (at least once)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        chat_id: int,
        text: str | None,
        *,
        reply_markup: str | Mapping[str, Any] | None = None,
        edit_message_id: int | None = None,
        dedupe_key: str | None = None,
        consultation_id: int | None = None,
        audience: str | None = None,
        not_before: datetime | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Queue a message (or an edit of `edit_message_id`); False if the dedupe key exists.

        `reply_markup` is JSON text or a mapping serialised here; without a dedupe key the
        message is always queued. `audience` (an `Audience` value) is the right the sender
        re-checks at send time: "consultation" (patient data of `consultation_id`) or
        "admin" (an alert); None, the default, is not checked (team chat, account messages).
        """
        if audience is not None:
            audience = Audience(audience).value  # a typo fails here, not at send time
        now = now or utcnow()
        markup = (
            json.dumps(reply_markup, ensure_ascii=False)
            if isinstance(reply_markup, Mapping)
            else reply_markup
        )
        new_id = await self.session.scalar(
            insert_ignore(
                self.session,
                OutboxMessage,
                {
                    "chat_id": chat_id,
                    "text": text,
                    "reply_markup": markup,
                    "edit_message_id": edit_message_id,
                    "dedupe_key": dedupe_key or f"auto:{uuid.uuid4().hex}",
                    "consultation_id": consultation_id,
                    "audience": audience,
                    "attempts": 0,
                    "failures": 0,
                    "next_attempt_at": max(not_before, now) if not_before else now,
                    "dead": False,
                    "created_at": now,
                },
                ["dedupe_key"],
            ).returning(OutboxMessage.id)
        )
        return new_id is not None

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        *,
        keep_chat_order: bool = True,
        exclude_ids: Collection[int] = (),
        holder: str | None = None,
    ) -> list[OutboxMessage]:
        """Claim up to `limit` due rows for `lease`, oldest first; commit right after.

        One statement picks and claims: on PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`
        so concurrent workers get disjoint rows; on SQLite the UPDATE holds the database's
        write lock. A claim counts in `attempts` (a crash mid-send stays visible) but is no
        failure (`failures`, what the retry delay counts); an expired lease makes the row
        due again (at least once). `holder` (the claiming process) is recorded with it.

        With `keep_chat_order`, a row waits while an older unsent row of the same chat is
        not due yet or claimed, so a rescheduled message (429) is not overtaken. Exact in
        one process; across workers a concurrent claim in flight can still interleave.

        `exclude_ids`: rows the caller still holds in memory (queued or being sent) whose
        lease may have run out meanwhile; claiming them again would queue a second copy.
        """
        older = aliased(OutboxMessage)
        conditions: list[Any] = [
            *_pending(),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
        ]
        if exclude_ids:
            conditions.append(OutboxMessage.id.not_in(list(exclude_ids)))
        if keep_chat_order:
            conditions.append(
                ~exists().where(
                    older.chat_id == OutboxMessage.chat_id,
                    older.id < OutboxMessage.id,
                    older.sent_at.is_(None),
                    older.dead == false(),
                    or_(older.next_attempt_at > now, older.claimed_until > now),
                )
            )
        pick = (
            select(OutboxMessage.id)
            .where(*conditions)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        rows = await self.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(pick.scalar_subquery()))
            .values(
                claimed_until=now + lease,
                claimed_by=holder,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return sorted(rows, key=lambda m: m.id)

    async def extend_claim(
        self, message_id: int, held_until: datetime, until: datetime, *, holder: str | None = None
    ) -> bool:
        """Extend a claim the caller still holds to `until`; False if it no longer does.

        Held means: still pending and claimed by `holder` (when given; the heartbeat moves
        `claimed_until` on), else `claimed_until` still `held_until`, the value the caller's
        claim set. Another claim (after the lease ran out), a reschedule or a mark_sent
        changed it, and then sending would risk a duplicate.
        """
        held = (
            OutboxMessage.claimed_by == holder
            if holder is not None
            else OutboxMessage.claimed_until == held_until
        )
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, held, *_pending())
            .values(claimed_until=until)
        )
        return rowcount(result) > 0

    async def claim_of(self, message_id: int) -> tuple[str | None, datetime | None] | None:
        """(holder, claimed until) of a pending row; None once it is sent, dead or gone.
        A plain read: nothing is locked (the sender holds it across a network call)."""
        found = (
            await self.session.execute(
                select(OutboxMessage.claimed_by, OutboxMessage.claimed_until).where(
                    OutboxMessage.id == message_id, *_pending()
                )
            )
        ).first()
        return None if found is None else (found[0], found[1])

    async def renew_claims(self, holder: str, until: datetime) -> int:
        """The heartbeat: every pending row `holder` still holds is held until `until`."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.claimed_by == holder, *_pending())
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def release_claims_of(self, prefix: str, *, keep: str, now: datetime) -> int:
        """Release the live claims of earlier processes named `prefix…` (a previous run of
        this replica, killed) and unnamed ones (from before holders were recorded), except
        `keep`'s: their rows are due at once instead of after the lease."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                *_pending(),
                OutboxMessage.claimed_until > now,
                or_(
                    OutboxMessage.claimed_by.is_(None),
                    OutboxMessage.claimed_by.startswith(prefix, autoescape=True),
                ),
                or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != keep),
            )
            .values(claimed_until=None, claimed_by=None)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def _set(self, message_id: int, **values: Any) -> bool:
        result = await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
        )
        return rowcount(result) > 0

    async def mark_sent(
        self, message_id: int, sent_message_id: int | None, *, now: datetime | None = None
    ) -> bool:
        return await self._set(
            message_id,
            sent_at=now or utcnow(),
            sent_message_id=sent_message_id,
            claimed_until=None,
            claimed_by=None,
        )

    async def reschedule(
        self, message_id: int, at: datetime, error: str | None = None, *, failed: bool = False
    ) -> bool:
        """Release the claim and try again at `at` (RetryAfter, network error, 5xx);
        `failed`: the send failed (counted in `failures`), not just handed back."""
        extra: dict[str, Any] = {"failures": OutboxMessage.failures + 1} if failed else {}
        return await self._set(
            message_id,
            next_attempt_at=at,
            claimed_until=None,
            claimed_by=None,
            last_error=error[:_ERROR_MAX] if error else None,
            **extra,
        )

    async def mark_dead(self, message_id: int, error: str, *, now: datetime | None = None) -> bool:
        """Give up on the row (blocked, chat not found, too many attempts)."""
        return await self._set(
            message_id,
            dead=True,
            failed_at=now or utcnow(),
            claimed_until=None,
            claimed_by=None,
            last_error=error[:_ERROR_MAX],
        )

    async def mark_chat_dead(self, chat_id: int, error: str, *, now: datetime | None = None) -> int:
        """Give up on every pending row of a chat (the user blocked the bot)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, *_pending())
            .values(
                dead=True,
                failed_at=now or utcnow(),
                claimed_until=None,
                claimed_by=None,
                last_error=error[:_ERROR_MAX],
            )
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def retarget_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group became a supergroup: pending rows follow it. Edits of messages of the
        old chat cannot be done in the new one, so they become new messages."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == old_chat_id, *_pending())
            .values(chat_id=new_chat_id, edit_message_id=None)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def purge_unlinked(self, cutoff: datetime) -> int:
        """Clear the text and buttons of messages of no consultation (alerts, invites,
        replies) delivered or given up on at or before ``cutoff``; the rows stay (their
        dedupe keys keep "once" true). Consultations' messages go with their purge."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.consultation_id.is_(None),
                or_(OutboxMessage.text.is_not(None), OutboxMessage.reply_markup.is_not(None)),
                or_(OutboxMessage.sent_at <= cutoff, OutboxMessage.failed_at <= cutoff),
            )
            .values(text=None, reply_markup=None)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def sent_copies_before(
        self, audiences: Collection[str], cutoff: datetime
    ) -> list[tuple[int, int]]:
        """(chat id, message id) of the messages of ``audiences`` delivered at or before
        ``cutoff`` whose stored text is still there (not purged yet), oldest first."""
        rows = await self.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.sent_message_id)
            .where(
                OutboxMessage.audience.in_(list(audiences)),
                OutboxMessage.sent_at <= cutoff,
                OutboxMessage.sent_message_id.is_not(None),
                OutboxMessage.text.is_not(None),
            )
            .order_by(OutboxMessage.id)
        )
        return [(int(chat), int(message)) for chat, message in rows.all()]

    async def scrubs_refused_since(self, since: datetime | None) -> int:
        """Wipe edits given up on after ``since`` (all when None): messages Telegram no
        longer lets the bot edit (deleted, too old, not text), or chats that are gone."""
        query = select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(SCRUB_KEY_PREFIX, autoescape=True),
            OutboxMessage.dead.is_(True),
        )
        if since is not None:
            query = query.where(OutboxMessage.failed_at > since)
        return int(await self.session.scalar(query) or 0)

    async def backlog_count(self) -> int:
        """Rows not sent yet and not given up on."""
        total = await self.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(*_pending())
        )
        return int(total or 0)

    async def backlog_stats(self) -> tuple[int, datetime | None]:
        """The backlog and when its oldest row was queued (None when empty): one query."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(*_pending())
            )
        ).one()
        return int(row[0] or 0), row[1]

    async def dead_count(self) -> int:
        total = await self.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dead.is_(True))
        )
        return int(total or 0)

    async def next_due_at(self) -> datetime | None:
        """When the sender should look next (a claimed row counts from its lease's end)."""
        effective = case(
            (
                OutboxMessage.claimed_until > OutboxMessage.next_attempt_at,
                OutboxMessage.claimed_until,
            ),
            else_=OutboxMessage.next_attempt_at,
        )
        # min() over a CASE loses the column type: read the two candidates separately.
        row = (
            await self.session.execute(
                select(OutboxMessage.next_attempt_at, OutboxMessage.claimed_until)
                .where(*_pending())
                .order_by(effective)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        next_attempt_at, claimed_until = row
        if claimed_until is not None and claimed_until > next_attempt_at:
            return claimed_until  # type: ignore[no-any-return]
        return next_attempt_at  # type: ignore[no-any-return]
