"""Expected outages log one WARNING per state change (began / ended), no tracebacks:
a partner API that answers 503 to every status batch, and a database write lock held by
someone else while the partner's hook GETs arrive (answered 503 at once)."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from sqlalchemy import text

from api_client.errors import PartnerApiError
from api_client.retry import RetryPolicy
from storage.hashing import new_secret
from storage.repositories.consultations import ConsultationRepository
from tests.notifications.harness import Harness

LOCK_TIMEOUT = 0.3  # seconds a hit waits for the database (2 s in the application)


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def test_a_partner_outage_is_two_warnings_not_an_error_per_batch(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.serve_receiver()
    await harness.add_users()
    _, partner_id = await harness.start()
    assert harness.worker is not None
    harness.api.retry = RetryPolicy(max_attempts=1)
    harness.sandbox.inject_fault("get_all", "503", count=100)
    await harness.sandbox.set_status(partner_id, "Processing")  # the hook flags it
    caplog.clear()
    caplog.set_level(logging.INFO)
    for _ in range(4):  # four batches fail while the partner is down
        with pytest.raises(PartnerApiError):
            await harness.worker.run_once()
    harness.sandbox.faults.clear()
    assert await harness.worker.run_once() == 1
    assert _lines(caplog, logging.ERROR) == []
    warnings = _lines(caplog, logging.WARNING)
    assert [w for w in warnings if "outage" in w] == [
        "partner_api_outage_began error=ApiUnavailable",
        "partner_api_outage_ended failures=4",
    ], warnings
    assert not any(r.exc_info for r in caplog.records)


async def test_a_database_lock_answers_hooks_503_at_once_with_one_warning(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.serve_receiver()
    assert harness.receiver is not None
    harness.receiver.lock_timeout = LOCK_TIMEOUT
    # A real consultation's token: a guess is answered from a read and never waits on the
    # lock (tests/notifications/test_receiver_read_only_miss.py); a hit must flag it.
    token = new_secret()
    async with harness.session_factory() as session:
        await ConsultationRepository(session).create_starting(
            token, coordinator_id=None, doctor_id=101
        )
        await session.commit()
    url = f"{harness.hook_base}/hooks/callback/{token}"
    caplog.set_level(logging.INFO)
    async with harness.session_factory() as holder, aiohttp.ClientSession() as http:
        # Someone holds SQLite's write lock (a long write, a backup) for a while.
        await holder.execute(text("UPDATE consultations SET needs_refresh = needs_refresh"))
        await holder.execute(text("CREATE TABLE lock_holder (x INTEGER)"))
        statuses = []
        for _ in range(3):
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=4.0)) as response:
                statuses.append(response.status)
        await holder.rollback()
        async with http.get(url) as response:
            after = response.status
    assert statuses == [503, 503, 503] and after == 200
    assert _lines(caplog, logging.ERROR) == []
    warnings = [w for w in _lines(caplog, logging.WARNING) if "outage" in w]
    assert warnings == [
        "hook_database_outage_began error=TimeoutError",
        "hook_database_outage_ended failures=3",
    ], warnings
