"""Issue 13, watching replicas: ``/ready`` (the load balancer's yes/no) and ``/metrics``
(Prometheus, the app's own registry) — each check of /ready, and the series the running bot
moves when it handles an update, a hook, an outbox send, a partner call and a reconcile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiogram.types import Update
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxServer
from bot.http_server import HealthState, build_http_app, partner_probe
from bot.metrics import Metrics, UpdateMetricsMiddleware
from storage.db import create_engine, create_session_factory
from storage.hashing import new_secret
from storage.repositories import ConsultationRepository
from storage.repositories.outbox import OutboxRepository
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram

SECRET_URL = "redis://:hunter2-password@redis.internal:6379/0"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) → value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


async def _ok() -> None:
    return None


# -------------------------------------------------------------------------------- /ready


async def test_ready_when_database_redis_and_partner_answer(
    session_factory: async_sessionmaker[AsyncSession], sandbox: SandboxServer
) -> None:
    async with PartnerApiClient(sandbox.url, StaticTokenProvider("t")) as api:
        app = build_http_app(
            session_factory=session_factory, health=HealthState(),
            partner_check=partner_probe(api), redis_check=_ok,
        )
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/ready")
            body = await response.json()
    assert response.status == 200
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "partner_api": "ok"},
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://bot:pw@127.0.0.1:1/bot",  # nothing listens: connection refused
        "sqlite+aiosqlite:////nonexistent-dir/for/sure/x.db?mode=ro&uri=true",  # no schema
    ],
    ids=["refused", "no-schema"],
)
async def test_not_ready_when_the_database_is_down(sandbox: SandboxServer, url: str) -> None:
    engine = create_engine(url)
    try:
        async with PartnerApiClient(sandbox.url, StaticTokenProvider("t")) as api:
            app = build_http_app(
                session_factory=create_session_factory(engine), health=HealthState(),
                partner_check=partner_probe(api),
            )
            async with TestClient(TestServer(app)) as client:
                response = await client.get("/ready")
                body = await response.json()
    finally:
        await engine.dispose()
    assert response.status == 503
    assert body["status"] == "not_ready"
    assert body["checks"] == {"database": "error", "partner_api": "ok"}
    assert body["errors"]["database"].isidentifier()  # an exception type, nothing more
    assert "pw" not in str(body) and "127.0.0.1" not in str(body)


async def test_not_ready_when_the_partner_api_fails(
    session_factory: async_sessionmaker[AsyncSession], sandbox: SandboxServer
) -> None:
    sandbox.sandbox.inject_fault("get_all", "500_html")
    async with PartnerApiClient(sandbox.url, StaticTokenProvider("t")) as api:
        app = build_http_app(
            session_factory=session_factory, health=HealthState(),
            partner_check=partner_probe(api),
        )
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/ready")
            body = await response.json()
    assert response.status == 503
    assert body["checks"] == {"database": "ok", "partner_api": "error"}
    assert body["errors"] == {"partner_api": "ServerError"}


async def test_not_ready_when_redis_fails_and_no_secret_in_the_body(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def redis_down() -> None:
        raise ConnectionError(f"Error connecting to {SECRET_URL}")

    app = build_http_app(
        session_factory=session_factory, health=HealthState(), partner_check=_ok,
        redis_check=redis_down,
    )
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/ready")
        text = await response.text()
    assert response.status == 503
    assert "hunter2" not in text and "redis.internal" not in text
    assert '"redis": "error"' in text and "ConnectionError" in text


# ------------------------------------------------------------------------------ /metrics


async def test_update_middleware_counts_failures_by_type() -> None:
    metrics = Metrics()
    middleware = UpdateMetricsMiddleware(metrics)
    update = Update.model_validate({"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "x",
    }})

    async def boom(event: Any, data: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError):
        await middleware(boom, update, {})
    registry = metrics.registry
    assert registry.get_sample_value("bot_update_failures_total", {"type": "message"}) == 1
    assert registry.get_sample_value("bot_update_seconds_count", {"type": "message"}) == 1
    # Each app its own registry: a second one starts from nothing.
    assert Metrics().registry.get_sample_value(
        "bot_update_failures_total", {"type": "message"}
    ) is None


async def test_metrics_move_with_an_update_a_hook_a_send_and_a_reconcile(
    fake_tg: FakeTelegram, sandbox: SandboxServer, db_url: str
) -> None:
    async with run_app(app_settings(fake_tg, db_url)) as rt:
        base = f"http://127.0.0.1:{rt.http_port}"
        async with httpx.AsyncClient(base_url=base, timeout=5.0) as http:
            before = samples((await http.get("/metrics")).text)

            # An update through the production dispatcher (its outer middlewares).
            stranger = 555301
            fake_tg.user(stranger, first_name="Stranger", language_code="en")
            message = fake_tg.new_user_message(stranger, stranger, text="/start",
                                               command_entity=True)
            update = Update.model_validate(
                {"update_id": 1, "message": message.to_dict()}, context={"bot": rt.bot}
            )
            await rt.dp.feed_update(rt.bot, update)

            # Hooks: one unknown token, one known.
            token = new_secret()
            async with rt.session_factory() as session:
                await ConsultationRepository(session).create_starting(
                    token, coordinator_id=None, doctor_id=None
                )
                await OutboxRepository(session).enqueue(stranger, "queued for the metrics")
                await session.commit()
            assert (await http.get(f"/hooks/callback/{'u' * 43}")).status_code == 404
            assert (await http.get(f"/hooks/callback/{token}")).status_code == 200

            # An outbox send, and a reconcile pass (partner API calls).
            rt.outbox.wake()
            await rt.outbox.drain()
            await rt.notifications.reconciler.run()
            # The composed app is ready; its partner probe is a get-all.
            ready = await http.get("/ready")
            assert ready.status_code == 200, ready.text

            response = await http.get("/metrics")
            assert response.headers["content-type"].startswith("text/plain")
            after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("bot_update_seconds_count", type="message") == 1
    assert moved("bot_update_failures_total", type="message") == 0
    assert moved("bot_hooks_total", outcome="unknown") == 1
    assert moved("bot_hooks_total", outcome="accepted") == 1
    assert moved("bot_outbox_sends_total", outcome="sent") == 1  # the queued row
    assert moved("bot_reconcile_seconds_count", result="ok") == 1
    assert moved("bot_partner_requests_total", route="get-all", outcome="ok") >= 1
    assert value(after, "bot_partner_request_seconds_count", route="get-all") >= 1
    # The outbox gauges were read at the scrape: everything was sent.
    assert value(after, "bot_outbox_depth") == 0
    assert value(after, "bot_outbox_oldest_age_seconds") == 0
    # Low cardinality: no chat id, token or name in any label.
    text = response.text
    assert str(stranger) not in text and token not in text and "Stranger" not in text


async def test_outbox_gauges_report_a_waiting_row(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        await OutboxRepository(session).enqueue(5, "x")
        await session.commit()
    metrics = Metrics()
    app = build_http_app(session_factory=session_factory, health=HealthState(), metrics=metrics)
    async with TestClient(TestServer(app)) as client:
        scrape = samples(await (await client.get("/metrics")).text())
    assert value(scrape, "bot_outbox_depth") == 1
    assert value(scrape, "bot_outbox_oldest_age_seconds") >= 0
