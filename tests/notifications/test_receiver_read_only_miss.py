"""A guessed token is answered from a read, and a token stops working after retention.

A hook with an unknown token must not take SQLite's write lock: with another connection
holding it (``BEGIN IMMEDIATE``, as a long write does), the guess is still answered 404 at
once — not after the busy timeout with a 503. A consultation's token is cleared once the
consultation is final and its retention has passed: its hook then answers like a guess.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.engine import make_url

from bot.jobs.retention import RetentionJob
from storage.enums import ConsultationState
from storage.hashing import new_secret
from storage.models import Consultation
from storage.repositories import ConsultationRepository
from tests.notifications.harness import COORDINATOR, Harness

PROMPT = 5.0  # seconds: far under the 15 s busy timeout a write would wait


@contextmanager
def write_lock_held(db_url: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock for the duration."""
    conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def _known_token(harness: Harness) -> tuple[str, int]:
    token = new_secret()
    async with harness.session_factory() as session:
        row = await ConsultationRepository(session).create_starting(
            token, coordinator_id=COORDINATOR, doctor_id=101
        )
        await session.commit()
    return token, row.id


async def test_a_guess_is_answered_while_another_connection_holds_the_write_lock(
    harness: Harness, db_url: str
) -> None:
    await harness.serve_receiver()
    base = f"{harness.hook_base}/hooks/callback"
    async with httpx.AsyncClient(timeout=30) as http:
        with write_lock_held(db_url):
            answer = await asyncio.wait_for(http.get(f"{base}/{new_secret()}"), PROMPT)
    assert answer.status_code == 404
    assert harness.receiver is not None and harness.receiver.stats.errors == 0


async def test_a_known_token_is_still_flagged_after_the_lock_is_released(
    harness: Harness,
) -> None:
    await harness.serve_receiver()
    token, consultation_id = await _known_token(harness)
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(f"{harness.hook_base}/hooks/callback/{token}")
    assert answer.status_code == 200
    async with harness.session_factory() as session:
        assert await ConsultationRepository(session).take_needing_refresh(10) == [consultation_id]


async def test_the_token_of_a_final_consultation_past_retention_answers_as_unknown(
    harness: Harness,
) -> None:
    await harness.serve_receiver()
    token, consultation_id = await _known_token(harness)
    now = datetime.now(UTC)
    async with harness.session_factory() as session:
        await session.execute(
            update(Consultation)
            .where(Consultation.id == consultation_id)
            .values(state=ConsultationState.FINAL, last_status_at=now - timedelta(days=31))
        )
        await session.commit()
    url = f"{harness.hook_base}/hooks/callback/{token}"
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await http.get(url)).status_code == 200  # final, but retention not yet run
        await RetentionJob(harness.session_factory, timedelta(days=30), now=lambda: now).run()
        assert (await http.get(url)).status_code == 404
    async with harness.session_factory() as session:
        row = await session.get(Consultation, consultation_id)
        assert row is not None and row.token_hash is None and row.purged_at is not None
