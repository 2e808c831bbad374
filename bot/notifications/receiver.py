"""The web-hook receiver: `GET|HEAD|POST /hooks/callback/{token}`.

The partner's GET carries nothing but the URL, so the token in the path names the
consultation. The handler only records "needs refresh" and wakes the worker: the answer is
immediate and never waits for the partner API (which may be the one calling us, slowly).

Rate limiting: a token bucket per client address is charged by *misses* only (an unknown
token, or a path that cannot be a token). Every well-shaped token is looked up: one SELECT
on the unique token-hash index, cheap enough to afford for each guess and never taking the
write lock (only known tokens are then flagged by an UPDATE). So a valid hook is never
refused and never waits behind guesses, even from an address that is being limited (behind
a reverse proxy every caller shares one address, the partner included). A limited address
only changes the answer to a miss: 429 instead of 404.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.logsafe import describe
from bot.notifications.outage import OutageLog
from storage.conflicts import TransactionConflict, run_in_transaction
from storage.hashing import hash_secret

log = logging.getLogger(__name__)

HOOK_PATH = "/hooks/callback/{token}"
# Tokens are URL-safe base64 of at least 16 bytes; anything else cannot be one of ours.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")

# (plain token) -> local consultation id marked for refresh, or None when unknown.
MarkRefresh = Callable[[str], Awaitable[int | None]]


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class HookStats:
    accepted: int = 0
    unknown: int = 0
    limited: int = 0
    errors: int = 0


@dataclass
class TokenBucketLimiter:
    """Per-address token bucket: `burst` invalid hits at once, refilled at `rate` per second."""

    rate: float = 1.0
    burst: float = 20.0
    max_addresses: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def _bucket(self, address: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = _Bucket(tokens=self.burst, updated=now)
            self._buckets[address] = bucket
            # Bounded memory under a flood from many addresses: forget the oldest.
            while len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(address)
        return bucket

    def is_limited(self, address: str) -> bool:
        return self._bucket(address).tokens < 1.0

    def charge(self, address: str) -> None:
        bucket = self._bucket(address)
        bucket.tokens = max(0.0, bucket.tokens - 1.0)


def db_mark_refresh(session_factory: async_sessionmaker[AsyncSession]) -> MarkRefresh:
    """The lookup against the database: flag the consultation by token hash, group-committed."""
    return GroupCommitMarker(session_factory)


class GroupCommitMarker:
    """Hits flagged together: one SELECT … WHERE token_hash IN (…), then for the known ones
    one UPDATE and one commit per batch.

    A commit per hit made the hits queue on SQLite's single writer (and on fsync): a burst
    of notifications took seconds to be answered. Here the first hit starts a flush task;
    hits arriving while a batch is being written wait for the next one, so batches grow
    with the load and a lone hit is written at once. Each hit is answered only after its
    batch was committed (durability as before), with its consultation id or None (unknown
    token → 404); a failed batch fails each of its hits (→ 503), as a failed commit did.
    """

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, max_batch: int = 1000
    ) -> None:
        self._session_factory = session_factory
        self._max_batch = max_batch
        self._pending: dict[str, list[asyncio.Future[int | None]]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # statistics for tests and benchmarks

    async def __call__(self, token: str) -> int | None:
        waiter: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(hash_secret(token), []).append(waiter)
        if self._flusher is None or self._flusher.done():
            # A task, not the first caller: a caller that goes away must not strand the rest.
            self._flusher = asyncio.create_task(self._flush(), name="hook-group-commit")
        return await waiter

    async def _flush(self) -> None:
        # Let the hits already accepted by the loop join the first batch.
        await asyncio.sleep(0)
        while self._pending:
            hashes = list(itertools.islice(self._pending, self._max_batch))
            batch = {token_hash: self._pending.pop(token_hash) for token_hash in hashes}
            try:
                found = await self._write(hashes)
            except Exception as exc:
                for waiters in batch.values():
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                continue
            for token_hash, waiters in batch.items():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(found.get(token_hash))

    async def _write(self, hashes: list[str]) -> dict[str, int]:
        from storage.repositories.consultations import ConsultationRepository

        # A plain SELECT first, in its own session: a batch of guesses is answered from this
        # read and never takes the write lock (on SQLite a guess would otherwise queue
        # behind any long write and fail with 503 when its busy timeout ran out).
        async with self._session_factory() as session:
            known = await ConsultationRepository(session).find_by_token_hashes(hashes)
        if known:
            # The UPDATE decides: a token cleared since the read (retention) is not flagged.
            # It takes the rows in id order, and runs again if it still met a deadlock.
            async def flag(session: AsyncSession) -> dict[str, int]:
                return await ConsultationRepository(session).mark_needs_refresh_hashed(known)

            known = await run_in_transaction(self._session_factory, flag, what="hook_flag")
        self.batches += 1
        return known


class HookReceiver:
    def __init__(
        self,
        mark_refresh: MarkRefresh,
        wake: Callable[[], None],
        *,
        limiter: TokenBucketLimiter | None = None,
        lock_timeout: float = 2.0,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self._mark = mark_refresh
        self.lock_timeout = lock_timeout  # seconds a hit may wait for the database
        self._busy = OutageLog(log, "hook_database")
        self._wake = wake
        self.limiter = limiter or TokenBucketLimiter()
        self.stats = HookStats()
        # "accepted", "unknown", "limited" or "error" per hook (bot/metrics.py counts them).
        self._on_outcome = on_outcome or _ignore

    def setup(self, app: web.Application) -> None:
        for method in ("GET", "HEAD", "POST"):
            app.router.add_route(method, HOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info.get("token", "")
        address = request.remote or "?"
        if not _TOKEN_SHAPE.match(token):
            return self._miss(address)
        try:
            # A database lock held longer (a long write, a backup) must not hold the
            # partner's GET until it times out at its end: 503 at once instead.
            async with asyncio.timeout(self.lock_timeout):
                consultation_id = await self._mark(token)
        except (TimeoutError, OperationalError, TransactionConflict) as exc:
            # Expected while the database is busy (or another replica kept colliding with
            # this hit): one line per outage, no traceback. The partner retries nothing;
            # reconcile catches the change anyway.
            self.stats.errors += 1
            self._on_outcome("error")
            self._busy.failed(exc)
            return web.Response(status=503)
        except Exception as exc:  # unexpected: types and places only, never the text
            self.stats.errors += 1
            self._on_outcome("error")
            log.error("hook_lookup_failed error=%s", describe(exc))
            return web.Response(status=503)
        self._busy.ok()
        if consultation_id is None:
            return self._miss(address)
        self.stats.accepted += 1
        self._on_outcome("accepted")
        self._wake()
        log.info("hook_accepted consultation=%s", consultation_id)
        return web.Response(status=200, text="ok")

    def _miss(self, address: str) -> web.StreamResponse:
        # Judged before charging: the hit that empties the bucket is still a plain 404.
        if self.limiter.is_limited(address):
            return self._refused(address)
        return self._unknown(address)

    def _unknown(self, address: str) -> web.StreamResponse:
        self.stats.unknown += 1
        self._on_outcome("unknown")
        self.limiter.charge(address)
        log.info("hook_unknown_token remote=%s count=%d", address, self.stats.unknown)
        return web.Response(status=404)

    def _refused(self, address: str) -> web.StreamResponse:
        self.stats.unknown += 1
        self.stats.limited += 1
        self._on_outcome("limited")
        self.limiter.charge(address)
        if self.stats.limited % 100 == 1:
            log.warning("hook_rate_limited remote=%s count=%d", address, self.stats.limited)
        return web.Response(status=429)


def _ignore(outcome: str) -> None:
    return None
