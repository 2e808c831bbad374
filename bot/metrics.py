"""Prometheus metrics of one application: one ``Metrics`` per ``Runtime``, its own registry.

Not the library's global registry: tests (and several apps in one process) each get their own
series, and nothing registers twice. ``GET /metrics`` (bot/http_server.py) exposes
``registry``; the outbox gauges are read from the database at scrape time (one query, with a
short timeout), never per update.

Labels are low-cardinality by construction: an update type, an outcome word, a partner API
route name (``get-all``, ``start-callback``, … — a fixed set in api_client). Never a chat id,
a token, a name.

This module imports no other part of the bot: the dispatcher's middleware, the hook receiver,
the outbox, the reconciler and bot/app (which wires the partner API client's ``on_request``)
import it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds: a handled update is usually tens of milliseconds, a slow one several seconds.
UPDATE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PARTNER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
RECONCILE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    """Every series of the bot, registered in ``registry`` (a fresh one unless given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.update_seconds = Histogram(
            "bot_update_seconds", "Time to handle one Telegram update, by update type",
            ["type"], buckets=UPDATE_BUCKETS, registry=r,
        )
        self.update_failures = Counter(
            "bot_update_failures", "Updates whose handling raised, by update type",
            ["type"], registry=r,
        )
        self.hooks = Counter(
            "bot_hooks", "Partner status web-hooks received, by outcome "
            "(accepted, unknown, limited, error)", ["outcome"], registry=r,
        )
        self.outbox_sends = Counter(
            "bot_outbox_sends", "Outbox send attempts, by outcome (sent, retry_after = "
            "Telegram's 429, retry, dead, …)", ["outcome"], registry=r,
        )
        self.outbox_depth = Gauge(
            "bot_outbox_depth", "Outbox rows not sent yet and not given up on (read at scrape)",
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "bot_outbox_oldest_age_seconds",
            "Age of the oldest pending outbox row, 0 when none (read at scrape)", registry=r,
        )
        self.outbox_scrape_errors = Counter(
            "bot_outbox_scrape_errors", "Scrapes whose outbox gauges could not be read",
            registry=r,
        )
        self.partner_requests = Counter(
            "bot_partner_requests", "Partner API requests (each attempt), by route and outcome",
            ["route", "outcome"], registry=r,
        )
        self.partner_seconds = Histogram(
            "bot_partner_request_seconds", "Partner API request duration, by route",
            ["route"], buckets=PARTNER_BUCKETS, registry=r,
        )
        self.reconcile_seconds = Histogram(
            "bot_reconcile_seconds",
            "Duration of one reconcile pass, by result (ok, partial, failed)",
            ["result"], buckets=RECONCILE_BUCKETS, registry=r,
        )

    # ------------------------------------------------------------------ call sites

    def partner_request(self, route: str, outcome: str, seconds: float) -> None:
        """The partner API client's ``on_request`` callback (api_client/transport.py)."""
        self.partner_requests.labels(route, outcome).inc()
        self.partner_seconds.labels(route).observe(seconds)

    def hook(self, outcome: str) -> None:
        self.hooks.labels(outcome).inc()

    def outbox_send(self, outcome: str) -> None:
        self.outbox_sends.labels(outcome).inc()

    def reconciled(self, seconds: float, result: str) -> None:
        """One pass: ``result`` is ``ok``, ``partial`` or ``failed``."""
        self.reconcile_seconds.labels(result).observe(seconds)

    def outbox_backlog(self, depth: int, oldest: datetime | None) -> None:
        self.outbox_depth.set(depth)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        self.outbox_oldest_age.set(max(0.0, age))


class UpdateMetricsMiddleware(BaseMiddleware):
    """Outer update middleware: the time of every update and whether it raised.

    An observe and, on failure, an increment: no I/O on the update's path.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = _update_type(event)
        started = time.perf_counter()
        try:
            return await handler(event, data)
        except Exception:
            self._metrics.update_failures.labels(kind).inc()
            raise
        finally:
            self._metrics.update_seconds.labels(kind).observe(time.perf_counter() - started)


def _update_type(event: TelegramObject) -> str:
    if isinstance(event, Update):
        try:
            return event.event_type
        except Exception:  # aiogram raises on an update of a type it does not know
            return "unknown"
    return "other"
