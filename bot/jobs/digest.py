"""The morning digest: one message a day per user, at the local time they chose in /settings.

Ticks every minute (under its job lease: one replica per tick, bot/app/scheduler.py). Each
tick finds the users whose digest time has passed today in their zone — at most
``LATE_LIMIT`` ago, so a restart or an outage over 09:00 still sends the morning's digest,
an afternoon start does not (bot/services/digest_settings.py says why) — and who have no
digest settled for that local date yet.

Once a day, across restarts and replicas: in one transaction per user the job sets the
durable mark (``users.digest_last_date``, only the first caller wins; rows of a job pass
that outlived its lease lose here) and queues the message through the outbox with the
dedupe key ``digest:<user>:<local date>``; a crash before the commit leaves neither. The
mark is the user's row, not the outbox row: retention clears outbox texts (never the rows
or their keys), and a user who moves their zone west into a date already served gets no
second digest.

The reader is read again inside that transaction and checked by the access policy: a
revoked account, a doctor whose digest is off by default, a stored admin no longer in
ADMIN_IDS get nothing. Digests go to the reader's private chat only (chat id = their
Telegram id), so patient names are shown; the outbox re-checks the reader at send time
(``audience`` digest_all / digest_own, bot/services/delivery.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.logsafe import describe
from bot.i18n import I18n, language_of
from bot.rendering.digest import digest_text
from bot.services.access import Action, Actor, allowed
from bot.services.digest import DigestMemo, build_digest
from bot.services.digest_settings import digest_choice, is_due
from bot.services.recipients import zone_of
from bot.shutdown import raise_if_stopping
from storage.enums import Audience
from storage.models import User
from storage.repositories import OutboxRepository, UserRepository

log = logging.getLogger(__name__)

JOB_ID = "digest"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def dedupe_key(telegram_id: int, day: date) -> str:
    return f"digest:{telegram_id}:{day.isoformat()}"


@dataclass
class DigestCounts:
    due: int = 0
    queued: int = 0
    failed: int = 0


@dataclass
class DigestJob:
    session_factory: async_sessionmaker[AsyncSession]
    i18n: I18n
    default_timezone: str
    admin_ids: Collection[int]  # ADMIN_IDS: the access policy's say on who is an admin now
    outbox_wake: Callable[[], None] = lambda: None
    now: Callable[[], datetime] = _utcnow
    last_counts: DigestCounts = field(default_factory=DigestCounts)

    async def run(self) -> DigestCounts:
        counts = DigestCounts()
        try:
            await self._run(counts)
        except Exception as exc:
            raise_if_stopping(log, "digest_cancelled", exc)
            log.error("digest_failed counts=%s error=%s", counts, describe(exc))
        else:
            if counts.due:
                log.info("digest_done counts=%s", counts)
        self.last_counts = counts
        if counts.queued:
            self.outbox_wake()
        return counts

    def _due_day(self, user: User, now: datetime) -> tuple[date, ZoneInfo] | None:
        actor = Actor.of(user.telegram_id, user, self.admin_ids)
        choice = digest_choice(user.digest_time, actor.role)
        if choice.at is None:
            return None
        tz = zone_of(user.timezone, self.default_timezone)
        day = is_due(choice.at, user.digest_last_date, now, tz)
        return None if day is None else (day, tz)

    async def _run(self, counts: DigestCounts) -> None:
        now = self.now()
        async with self.session_factory() as session:
            candidates = await UserRepository(session).digest_candidates()
        due = [u.telegram_id for u in candidates if self._due_day(u, now) is not None]
        counts.due = len(due)
        memo: DigestMemo = {}
        for telegram_id in due:
            # One transaction per reader: one bad row does not hold back the others.
            try:
                async with self.session_factory() as session:
                    if await self._queue(session, telegram_id, now, memo):
                        counts.queued += 1
                    await session.commit()
            except Exception as exc:
                raise_if_stopping(log, "digest_cancelled", exc)
                counts.failed += 1
                log.error("digest_user_failed user_id=%s error=%s", telegram_id, describe(exc))

    async def _queue(
        self, session: AsyncSession, telegram_id: int, now: datetime, memo: DigestMemo
    ) -> bool:
        """Queue today's digest of ``telegram_id``; False when not (any more) due."""
        users = UserRepository(session)
        user = await users.get(telegram_id)  # read again: a role, zone or choice changed?
        found = self._due_day(user, now) if user is not None and user.is_active else None
        if user is None or found is None:
            return False
        day, tz = found
        actor = Actor.of(telegram_id, user, self.admin_ids)
        if not allowed(actor, Action.LIST):
            return False
        if not await users.settle_digest(telegram_id, day):
            return False  # another pass (a replica past its lease) got there first
        digest = await build_digest(session, actor, now=now, tz=tz, memo=memo)
        lang = language_of(user)
        text = digest_text(digest, self.i18n.translator(lang), tz, lang, now=now, private=True)
        queued = await OutboxRepository(session).enqueue(
            telegram_id,
            text,
            dedupe_key=dedupe_key(telegram_id, day),
            audience=Audience.DIGEST_ALL if actor.is_staff else Audience.DIGEST_OWN,
            now=now,
        )
        log.info(
            "digest_queued user_id=%s day=%s scheduled=%d queued=%s",
            telegram_id,
            day.isoformat(),
            digest.scheduled.total,
            queued,
        )
        return queued
