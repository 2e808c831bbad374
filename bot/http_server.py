"""The HTTP listener: ``/health``, ``/ready`` and ``/metrics`` here; other parts add their routes.

``/health`` describes (database, Redis, partner API, outbox backlog, reconcile age) and is 503
only when no update could be handled (database or Redis down). ``/ready`` is the load
balancer's yes/no: 200 only when the database, Redis (when set) and the partner API all answer
within short timeouts; its JSON names each check and an exception type on failure, never a
URL or a secret. ``/metrics`` (when ``metrics`` is given) is Prometheus' text format of this
app's own registry (bot/metrics.py).

``build_http_app(..., extra_routes=[register, ...])`` calls each ``register(app)`` so the
notifications part adds ``/hooks/callback/{token}`` and ``run_bot`` adds the Telegram webhook,
without this module knowing them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository

log = logging.getLogger(__name__)

RouteRegistrar = Callable[[web.Application], None]
Probe = Callable[[], Awaitable[object]]

HEALTH_STATE_KEY: web.AppKey[HealthState] = web.AppKey("health_state")


@dataclass
class HealthState:
    """Shared, mutable facts for /health (the reconcile job sets ``last_reconcile_at``)."""

    is_sandbox: bool = False
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_reconcile_at: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def reconciled(self, at: datetime | None = None) -> None:
        self.last_reconcile_at = at or datetime.now(UTC)


class CachedProbe:
    """Runs ``probe`` at most once per ``ttl`` seconds with a ``timeout``; caches ok/error."""

    def __init__(self, probe: Probe, *, ttl: float = 30.0, timeout: float = 3.0) -> None:
        self.probe = probe
        self.ttl = ttl
        self.timeout = timeout
        self._checked_at: float | None = None
        self._result: tuple[bool, str | None] = (False, "not checked")
        self._lock = asyncio.Lock()

    async def __call__(self) -> tuple[bool, str | None]:
        async with self._lock:
            now = time.monotonic()
            if self._checked_at is not None and now - self._checked_at < self.ttl:
                return self._result
            try:
                await asyncio.wait_for(self.probe(), self.timeout)
                self._result = (True, None)
            except Exception as exc:  # any failure means "not reachable" here
                self._result = (False, type(exc).__name__)
            self._checked_at = time.monotonic()
            return self._result


class ListsCallbacks(Protocol):
    """What ``partner_probe`` calls: ``PartnerApiClient`` fits."""

    async def list_callbacks(self, *, limit: int = ...) -> object: ...


def partner_probe(api: ListsCallbacks) -> Probe:
    """The cheapest real call: one consultation from get-all."""

    async def probe() -> None:
        await api.list_callbacks(limit=1)

    return probe


def build_http_app(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    health: HealthState,
    partner_check: Probe | None = None,
    redis_check: Probe | None = None,
    extra_routes: Iterable[RouteRegistrar] = (),
    partner_ttl: float = 30.0,
    partner_timeout: float = 3.0,
    metrics: Metrics | None = None,
    ready_timeout: float = 2.0,
) -> web.Application:
    app = web.Application()
    app[HEALTH_STATE_KEY] = health
    partner = CachedProbe(partner_check, ttl=partner_ttl, timeout=partner_timeout) if (
        partner_check is not None
    ) else None
    # Unlike the partner API, Redis is checked on every call: each update needs it.
    redis = CachedProbe(redis_check, ttl=0.0, timeout=partner_timeout) if (
        redis_check is not None
    ) else None

    async def health_handler(request: web.Request) -> web.Response:
        body: dict[str, object] = {"sandbox": health.is_sandbox}
        db_ok = True
        try:
            async with session_factory() as session:
                await session.execute(text("SELECT 1"))
                body["outbox_backlog"] = await OutboxRepository(session).backlog_count()
        except Exception as exc:
            db_ok = False
            body["database_error"] = type(exc).__name__
        body["database"] = "ok" if db_ok else "error"
        redis_ok = True
        if redis is not None:
            redis_ok, error = await redis()
            body["redis"] = "ok" if redis_ok else "error"
            if error:
                body["redis_error"] = error
        if partner is not None:
            ok, error = await partner()
            body["partner_api"] = "ok" if ok else "unreachable"
            if error:
                body["partner_api_error"] = error
        now = datetime.now(UTC)
        body["uptime_seconds"] = round((now - health.started_at).total_seconds(), 1)
        body["seconds_since_reconcile"] = (
            round((now - health.last_reconcile_at).total_seconds(), 1)
            if health.last_reconcile_at
            else None
        )
        body.update(health.extra)
        ok = db_ok and redis_ok  # without either, no update can be handled
        body["status"] = "ok" if ok else "error"
        return web.json_response(body, status=200 if ok else 503)

    async def database_answers() -> tuple[bool, str | None]:
        # A migrated table, not only "SELECT 1": a wrong or empty database is not ready.
        try:
            async with asyncio.timeout(ready_timeout), session_factory() as session:
                await session.execute(select(OutboxMessage.id).limit(1))
        except Exception as exc:
            return False, type(exc).__name__
        return True, None

    async def ready_handler(request: web.Request) -> web.Response:
        """200 when this replica can serve: database, Redis (when set), partner API."""
        checks: dict[str, str] = {}
        errors: dict[str, str] = {}
        probes: list[tuple[str, Callable[[], Awaitable[tuple[bool, str | None]]]]] = [
            ("database", database_answers)
        ]
        if redis is not None:
            probes.append(("redis", redis))
        if partner is not None:
            probes.append(("partner_api", partner))
        results = await asyncio.gather(*(probe() for _, probe in probes))
        for (name, _), (ok, error) in zip(probes, results, strict=True):
            checks[name] = "ok" if ok else "error"
            if error:
                errors[name] = error
        ready = all(value == "ok" for value in checks.values())
        body: dict[str, object] = {"status": "ready" if ready else "not_ready", "checks": checks}
        if errors:
            body["errors"] = errors
        return web.json_response(body, status=200 if ready else 503)

    app.router.add_get("/health", health_handler)
    app.router.add_get("/ready", ready_handler)
    if metrics is not None:
        app.router.add_get("/metrics", metrics_route(metrics, session_factory, ready_timeout))
    for register in extra_routes:
        register(app)
    return app


def metrics_route(
    metrics: Metrics, session_factory: async_sessionmaker[AsyncSession], timeout: float
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /metrics``: the outbox gauges refreshed by one query, then the registry's text.

    A database that does not answer within ``timeout`` leaves the gauges at their last value
    and counts ``bot_outbox_scrape_errors_total``: the scrape itself always answers.
    """

    async def handler(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(timeout), session_factory() as session:
                depth, oldest = await OutboxRepository(session).backlog_stats()
            metrics.outbox_backlog(depth, oldest)
        except Exception as exc:
            metrics.outbox_scrape_errors.inc()
            log.warning("metrics_outbox_unreadable error=%s", type(exc).__name__)
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return handler
