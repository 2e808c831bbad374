"""What the replica tests put through the cluster and how they count what came out.

``seed``: consultations as the wizard leaves them (a hook token, the partner's record with
its notification URL on the proxy, the local row bound to it, its Registered event), each
with its coordinator, in one transaction. ``started_counts``: the "call has started"
messages the fake Bot API delivered, by consultation (its short id in the text).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.notifications.messages import short_id
from storage.enums import EventSource, Role
from storage.hashing import new_secret
from storage.models import OutboxMessage
from storage.repositories import ConsultationRepository, StatusEventRepository, UserRepository
from tests.fake_telegram import FakeTelegram
from tests.replicas.cluster import Cluster

DOCTOR_ID = 101
PHONE = ("7", "9099708593")
STARTED = re.compile(r"The call has started: consultation (\S+),")


@dataclass(frozen=True)
class Seeded:
    local_id: int
    partner_id: str
    short_id: str
    coordinator_id: int


async def seed(cluster: Cluster, coordinators: Iterable[int], per_coordinator: int) -> list[Seeded]:
    """``per_coordinator`` active consultations for each coordinator (English speakers)."""
    users = list(coordinators)
    seeded: list[Seeded] = []
    async with cluster.sessions() as session:
        people = UserRepository(session)
        for user_id in users:
            cluster.tg.user(user_id, first_name="Coord", language_code="en")
            await people.upsert(user_id, Role.COORDINATOR, display_name=f"C{user_id}")
            await people.set_language(user_id, "en")
        repo = ConsultationRepository(session)
        events = StatusEventRepository(session)
        for n in range(per_coordinator * len(users)):
            coordinator = users[n % len(users)]
            token = new_secret()
            record = cluster.sandbox.start_callback(
                doctor_id=DOCTOR_ID,
                phone=PHONE,
                patient_full_name=f"Patient {n}",
                notification_url=f"{cluster.proxy.url}/hooks/callback/{token}",
            )
            row = await repo.create_starting(
                token,
                coordinator_id=coordinator,
                doctor_id=DOCTOR_ID,
                doctor_name="Doctor",
                patient_name=f"Patient {n}",
                patient_phone="+79099708593",
            )
            assert await repo.bind_partner_id(row.id, record.id)
            (registered,) = record.statuses  # as start-callback's answer gives it: whole seconds
            at = registered.at.replace(microsecond=0)
            await events.record(row.id, "Registered", at, EventSource.START)
            seeded.append(Seeded(row.id, record.id, short_id(record.id, row.id), coordinator))
        await session.commit()
    assert len({s.short_id for s in seeded}) == len(seeded), "short ids must tell them apart"
    return seeded


def started_counts(tg: FakeTelegram, chats: Iterable[int]) -> Counter[tuple[int, str]]:
    """(chat, short id) → how many "call has started" messages the chat received."""
    counts: Counter[tuple[int, str]] = Counter()
    for chat_id in chats:
        for message in tg.bot_messages(chat_id, include_deleted=True):
            if found := STARTED.search(message.content):
                counts[(chat_id, found.group(1))] += 1
    return counts


@dataclass(frozen=True)
class Tally:
    expected: int
    delivered: int  # distinct expected messages that arrived
    lost: int
    doubled: int  # copies beyond the first
    stray: int  # messages nobody expected

    def line(self) -> str:
        return (
            f"expected={self.expected} delivered={self.delivered} lost={self.lost} "
            f"doubled={self.doubled} stray={self.stray}"
        )


def tally(seeded: list[Seeded], counts: Counter[tuple[int, str]]) -> Tally:
    expected = {(s.coordinator_id, s.short_id) for s in seeded}
    delivered = sum(1 for key in expected if counts[key] > 0)
    return Tally(
        expected=len(expected),
        delivered=delivered,
        lost=len(expected) - delivered,
        doubled=sum(n - 1 for key, n in counts.items() if key in expected and n > 1),
        stray=sum(n for key, n in counts.items() if key not in expected),
    )


async def pending_rows(cluster: Cluster) -> int:
    """Outbox rows neither sent nor given up on."""
    async with cluster.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(False))
        )
    return int(count or 0)


async def claims_of(cluster: Cluster, instance: str) -> list[tuple[int, int | None]]:
    """(chat, consultation) of the unsent rows a process of ``instance`` holds claimed."""
    async with cluster.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.consultation_id).where(
                OutboxMessage.claimed_by.like(f"{instance}:%"),
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.dead.is_(False),
            )
        )
        return [(chat, consultation) for chat, consultation in rows]


async def until(
    check: Callable[[], Awaitable[bool]], *, within: float, what: str, every: float = 0.2
) -> None:
    """Poll ``check`` (a database read: nothing notifies the test) until true, or fail."""
    try:
        async with asyncio.timeout(within):
            while not await check():  # noqa: ASYNC110 - another process writes the database
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what}") from None


async def claims_until(cluster: Cluster, instance: str) -> datetime | None:
    """The earliest lease end among the unsent rows ``instance`` holds: it moves on when
    the heartbeat renews them all (a new claim alone does not move it)."""
    async with cluster.sessions() as session:
        return await session.scalar(
            select(func.min(OutboxMessage.claimed_until)).where(
                OutboxMessage.claimed_by.like(f"{instance}:%"),
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.dead.is_(False),
            )
        )
