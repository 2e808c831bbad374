from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Audience
from storage.repositories import OutboxRepository

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def test_enqueue_dedupe_and_fields(session: AsyncSession) -> None:
    out = OutboxRepository(session)
    markup = {"inline_keyboard": [[{"text": "Обновить", "callback_data": "r:1"}]]}
    assert await out.enqueue(5, "hi", reply_markup=markup, dedupe_key="k1", now=T0)
    assert not await out.enqueue(5, "hi again", dedupe_key="k1", now=T0)
    assert await out.enqueue(5, "edit", edit_message_id=42, reply_markup='{"a":1}', now=T0)
    assert await out.enqueue(5, "no key", now=T0)  # no key: always queued
    assert await out.backlog_count() == 3
    [m1, m2, m3] = await out.claim_due(T0, 10, LEASE)
    assert (m1.chat_id, m1.text, m1.dedupe_key, m1.attempts) == (5, "hi", "k1", 1)
    assert json.loads(m1.reply_markup or "") == markup
    assert (m2.edit_message_id, m2.reply_markup) == (42, '{"a":1}')
    assert m3.dedupe_key.startswith("auto:")
    assert m1.claimed_until == T0 + LEASE and m1.created_at == T0


async def test_claim_lifecycle(session: AsyncSession) -> None:
    out = OutboxRepository(session)
    assert await out.next_due_at() is None
    await out.enqueue(1, "a", dedupe_key="a", now=T0)
    await out.enqueue(2, "b", dedupe_key="b", now=T0, not_before=T0 + timedelta(minutes=1))
    assert await out.next_due_at() == T0
    [a] = await out.claim_due(T0, 10, LEASE)
    assert a.dedupe_key == "a"
    assert await out.claim_due(T0, 10, LEASE) == []  # claimed, b not due
    assert await out.next_due_at() == T0 + LEASE  # a's lease ends before b is due
    # Lease expired without mark_sent (crash): a is due again, attempt counted.
    [again] = await out.claim_due(T0 + LEASE, 10, LEASE)
    assert again.id == a.id and again.attempts == 2
    assert await out.mark_sent(a.id, 900, now=T0 + LEASE)
    got = await out.get(a.id)
    assert got is not None and (got.sent_at, got.sent_message_id, got.claimed_until) == (
        T0 + LEASE,
        900,
        None,
    )
    assert await out.backlog_count() == 1
    [b] = await out.claim_due(T0 + timedelta(minutes=1), 10, LEASE)
    assert await out.reschedule(b.id, T0 + timedelta(minutes=5), "RetryAfter 240")
    assert await out.claim_due(T0 + timedelta(minutes=4), 10, LEASE) == []
    assert await out.next_due_at() == T0 + timedelta(minutes=5)
    [b2] = await out.claim_due(T0 + timedelta(minutes=5), 10, LEASE)
    assert (b2.attempts, b2.last_error) == (2, "RetryAfter 240")
    assert await out.mark_dead(b2.id, "Forbidden: bot was blocked", now=T0)
    assert (await out.backlog_count(), await out.dead_count()) == (0, 1)
    assert await out.claim_due(T0 + timedelta(days=1), 10, LEASE) == []
    assert not await out.mark_sent(999, 1)


async def test_claim_keeps_order_per_chat(session: AsyncSession) -> None:
    out = OutboxRepository(session)
    for i in range(3):
        await out.enqueue(7, f"m{i}", dedupe_key=f"c7-{i}", now=T0)
    await out.enqueue(8, "other chat", dedupe_key="c8", now=T0)
    first = await out.claim_due(T0, 1, LEASE)
    assert [m.text for m in first] == ["m0"]
    # m0 is in flight: chat 7's later messages wait; chat 8 is free.
    assert [m.text for m in await out.claim_due(T0, 10, LEASE)] == ["other chat"]
    await out.reschedule(first[0].id, T0 + timedelta(seconds=10), "429")
    assert await out.claim_due(T0 + timedelta(seconds=5), 10, LEASE) == []
    assert [m.text for m in await out.claim_due(T0 + timedelta(seconds=10), 10, LEASE)] == [
        "m0",
        "m1",
        "m2",
    ]
    # Without the ordering guard, later rows do not wait.
    await out.enqueue(9, "x0", dedupe_key="x0", now=T0 + timedelta(seconds=100))
    await out.enqueue(9, "x1", dedupe_key="x1", now=T0)
    got = await out.claim_due(T0, 10, LEASE, keep_chat_order=False)
    assert [m.text for m in got] == ["x1"]


async def test_dead_rows_do_not_block_the_chat(session: AsyncSession) -> None:
    out = OutboxRepository(session)
    await out.enqueue(7, "m0", dedupe_key="a", now=T0)
    await out.enqueue(7, "m1", dedupe_key="b", now=T0)
    [m0] = await out.claim_due(T0, 1, LEASE)
    await out.mark_dead(m0.id, "400 bad request")
    assert [m.text for m in await out.claim_due(T0, 10, LEASE)] == ["m1"]


async def test_retarget_chat_and_chat_dead(session: AsyncSession) -> None:
    out = OutboxRepository(session)
    await out.enqueue(-100, "new", dedupe_key="n", now=T0)
    await out.enqueue(-100, "edit", edit_message_id=3, dedupe_key="e", now=T0)
    await out.enqueue(-100, "sent", dedupe_key="s", now=T0)
    [_, _, s] = await out.claim_due(T0, 3, LEASE)
    await out.mark_sent(s.id, 1)
    await session.flush()
    # Reclaim the two unsent ones later: they moved.
    assert await out.retarget_chat(-100, -1001) == 2
    rows = await out.claim_due(T0 + LEASE, 10, LEASE)
    assert {(m.chat_id, m.edit_message_id) for m in rows} == {(-1001, None)}
    assert len(rows) == 2
    sent = await out.get(s.id)
    assert sent is not None and sent.chat_id == -100
    await out.enqueue(33, "x", dedupe_key="x1")
    await out.enqueue(33, "y", dedupe_key="x2")
    assert await out.mark_chat_dead(33, "blocked") == 2


async def test_concurrent_claims_are_disjoint_and_complete(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    total = 200
    async with session_factory() as s, s.begin():
        out = OutboxRepository(s)
        for i in range(total):
            # 40 chats: the ordering guard is exercised across concurrent claimers too.
            await out.enqueue(i % 40, f"m{i}", dedupe_key=f"k{i}", now=T0)

    async def worker() -> list[int]:
        got: list[int] = []
        while True:
            async with session_factory() as s, s.begin():
                out = OutboxRepository(s)
                batch = await out.claim_due(T0, 9, LEASE, keep_chat_order=False)
                for m in batch:
                    await out.mark_sent(m.id, m.id)
            if not batch:
                return got
            got += [m.id for m in batch]

    results = await asyncio.gather(*(worker() for _ in range(4)))
    flat = [i for r in results for i in r]
    assert len(flat) == total and len(set(flat)) == total
    async with session_factory() as s:
        assert await OutboxRepository(s).backlog_count() == 0


async def test_two_sessions_claim_at_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as s, s.begin():
        out = OutboxRepository(s)
        for i in range(50):
            await out.enqueue(1000 + i, f"m{i}", dedupe_key=f"k{i}", now=T0)

    async def claim() -> set[int]:
        async with session_factory() as s, s.begin():
            return {m.id for m in await OutboxRepository(s).claim_due(T0, 30, LEASE)}

    a, b = await asyncio.gather(claim(), claim())
    assert not a & b
    assert len(a | b) == 50  # 30 + 20: the second took what the first left


async def test_claim_skips_held_ids_and_extend_claim_only_while_held(
    session: AsyncSession,
) -> None:
    out = OutboxRepository(session)
    await out.enqueue(-7, "a", dedupe_key="a", now=T0)
    await out.enqueue(-7, "b", dedupe_key="b", now=T0)
    await out.enqueue(8, "c", dedupe_key="c", now=T0)
    [a, b, c] = await out.claim_due(T0, 10, LEASE)
    later = T0 + LEASE  # every lease has run out
    # The sender still holds a and b in memory: only c is claimed again.
    [again] = await out.claim_due(later, 10, LEASE, exclude_ids=[a.id, b.id])
    assert again.id == c.id and again.attempts == 2
    # a's claim is still the one the sender made: it may be extended (even after expiry).
    assert await out.extend_claim(a.id, T0 + LEASE, later + LEASE)
    got = await out.get(a.id)
    assert got is not None and got.claimed_until == later + LEASE and got.attempts == 1
    # c was claimed again by someone else: the old holder's claim is gone.
    assert not await out.extend_claim(c.id, T0 + LEASE, later + LEASE)
    # sent or rescheduled rows are no longer held either
    assert await out.mark_sent(b.id, 5, now=later)
    assert not await out.extend_claim(b.id, T0 + LEASE, later + LEASE)


async def test_enqueue_audience_is_stored_and_validated(session: AsyncSession) -> None:
    out = OutboxRepository(session)
    assert await out.enqueue(5, "card", consultation_id=None, audience="consultation", now=T0)
    assert await out.enqueue(6, "alert", audience=Audience.ADMIN, now=T0)
    assert await out.enqueue(7, "team line", now=T0)  # the default: no check
    rows = await out.claim_due(T0, 10, LEASE)
    assert [r.audience for r in rows] == ["consultation", "admin", None]
    with pytest.raises(ValueError):
        await out.enqueue(5, "typo", audience="consultaton", now=T0)
