"""The receiver's group commit: concurrent hits share one UPDATE and one commit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notifications.receiver import GroupCommitMarker
from storage.hashing import new_secret
from storage.models import Consultation
from storage.repositories import ConsultationRepository
from tests.notifications.harness import COORDINATOR

SF = async_sessionmaker[AsyncSession]


async def _tokens(sf: SF, count: int) -> dict[str, int]:
    tokens = [new_secret() for _ in range(count)]
    async with sf() as session:
        repo = ConsultationRepository(session)
        rows = [
            await repo.create_starting(token, coordinator_id=COORDINATOR, doctor_id=101)
            for token in tokens
        ]
        await session.commit()
    return {token: row.id for token, row in zip(tokens, rows, strict=True)}


async def _flagged(sf: SF) -> set[int]:
    async with sf() as session:
        rows = await session.scalars(
            select(Consultation.id).where(Consultation.needs_refresh.is_(True))
        )
        return set(rows)


async def test_concurrent_hits_are_batched_and_answered_after_the_commit(
    session_factory: SF,
) -> None:
    known = await _tokens(session_factory, 60)
    marker = GroupCommitMarker(session_factory)
    unknown = [new_secret() for _ in range(20)]
    flagged_when_answered: list[bool] = []

    async def hit(token: str) -> int | None:
        found = await marker(token)
        if found is not None:
            # Answered only once durable: a fresh session already sees the flag.
            flagged_when_answered.append(found in await _flagged(session_factory))
        return found

    tokens = [*known, *unknown, *list(known)[:10]]  # repeated hits of one token too
    answers = await asyncio.gather(*(hit(t) for t in tokens))

    assert answers == [known.get(t) for t in tokens]
    assert all(flagged_when_answered) and len(flagged_when_answered) == 70
    assert await _flagged(session_factory) == set(known.values())
    assert marker.batches < len(tokens) // 4  # grouped, not one commit per hit


async def test_a_lone_hit_and_an_unknown_token(session_factory: SF) -> None:
    known = await _tokens(session_factory, 1)
    marker = GroupCommitMarker(session_factory)
    [(token, consultation_id)] = known.items()
    assert await marker(token) == consultation_id
    assert await marker(new_secret()) is None
    assert marker.batches == 2


async def test_a_failed_batch_fails_each_of_its_hits(session_factory: SF) -> None:
    known = await _tokens(session_factory, 3)
    marker = GroupCommitMarker(session_factory)

    async def broken(hashes: list[str]) -> Any:
        raise RuntimeError("database is locked")

    marker._write = broken  # type: ignore[method-assign]
    results = await asyncio.gather(*(marker(t) for t in known), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError] * 3
    # The next hit is served by a new batch once the database is back.
    del marker._write
    token = next(iter(known))
    assert await marker(token) == known[token]


@pytest.mark.parametrize("max_batch", [7])
async def test_batches_are_bounded(session_factory: SF, max_batch: int) -> None:
    known = await _tokens(session_factory, 30)
    marker = GroupCommitMarker(session_factory, max_batch=max_batch)
    answers = await asyncio.gather(*(marker(t) for t in known))
    assert answers == list(known.values())
    assert marker.batches >= 30 // max_batch
