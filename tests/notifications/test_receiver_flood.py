"""The receiver under a flood of guessed tokens: valid web-hooks are always served."""

from __future__ import annotations

import asyncio

import httpx

from bot.notifications.receiver import TokenBucketLimiter
from storage.hashing import new_secret
from storage.repositories import ConsultationRepository
from tests.notifications.harness import COORDINATOR, Harness


async def _valid_tokens(harness: Harness, count: int) -> list[str]:
    tokens = [new_secret() for _ in range(count)]
    async with harness.session_factory() as session:
        repo = ConsultationRepository(session)
        for token in tokens:
            await repo.create_starting(token, coordinator_id=COORDINATOR, doctor_id=101)
        await session.commit()
    return tokens


async def test_flood_of_guesses_never_refuses_a_valid_hook(harness: Harness) -> None:
    # Behind a reverse proxy every caller shares one address: the partner's hooks arrive
    # from the same address as the guesses, and that address is already limited.
    limiter = TokenBucketLimiter(rate=0.0, burst=5)
    await harness.serve_receiver(limiter=limiter)
    tokens = await _valid_tokens(harness, 10)
    base = f"{harness.hook_base}/hooks/callback"
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        for i in range(5):
            assert (await http.get(f"{base}/warmup{i:026d}")).status_code == 404
        assert limiter.is_limited("127.0.0.1")

        bad = [http.get(f"{base}/guess{i:028d}") for i in range(100)]
        # Tokens this process has never seen, sent after the guesses are queued.
        good = [http.get(f"{base}/{token}") for token in tokens]
        answers = await asyncio.gather(*bad, *good)

    bad_statuses = {r.status_code for r in answers[:100]}
    good_statuses = [r.status_code for r in answers[100:]]
    assert good_statuses == [200] * len(tokens)
    assert bad_statuses == {429}
    assert harness.receiver is not None
    assert harness.receiver.stats.accepted == len(tokens)
    assert harness.receiver.stats.limited == 100
    async with harness.session_factory() as session:
        flagged = await ConsultationRepository(session).take_needing_refresh(100)
    assert len(flagged) == len(tokens)


async def test_a_miss_charges_the_limiter_and_a_hit_does_not(harness: Harness) -> None:
    limiter = TokenBucketLimiter(rate=0.0, burst=3)
    await harness.serve_receiver(limiter=limiter)
    [token] = await _valid_tokens(harness, 1)
    base = f"{harness.hook_base}/hooks/callback"
    async with httpx.AsyncClient() as http:
        for _ in range(10):  # the partner repeating itself is never limited
            assert (await http.get(f"{base}/{token}")).status_code == 200
        assert not limiter.is_limited("127.0.0.1")
        statuses = [(await http.get(f"{base}/guess{i:028d}")).status_code for i in range(5)]
        assert statuses == [404, 404, 404, 429, 429]
        # Malformed tokens cost no lookup and are refused once limited.
        assert (await http.get(f"{base}/short")).status_code == 429
        assert (await http.get(f"{base}/{token}")).status_code == 200
