"""check: all ✓ against the sandbox, ✗ with a plain reason against dead URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.auth import TokenPair
from api_client.sandbox import SandboxConfig, SandboxServer
from bot.ops.check import run_check
from storage.repositories import TokenRepository
from tests.ops.conftest import MakeSettings, free_port

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def running_bot_health() -> AsyncIterator[str]:
    """Stands in for the running bot's /health behind PUBLIC_URL."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "sandbox": False})

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _check(settings: object) -> tuple[int, list[str]]:
    lines: list[str] = []
    rc = await run_check(settings, say=lines.append)  # type: ignore[arg-type]
    return rc, lines


def _line(lines: list[str], name: str) -> str:
    return next(line for line in lines if line[2:].startswith(name + ":"))


async def test_all_green_against_the_sandbox(
    make_settings: MakeSettings, sandbox: SandboxServer, running_bot_health: str,
    session_factory: Factory,
) -> None:
    async with session_factory() as session:
        await TokenRepository(session).save(TokenPair("stored-access", "stored-refresh"))
        await session.commit()
    settings = make_settings(
        tmapi_base_url=sandbox.url,
        tmapi_auth_url=sandbox.url + "/token",
        tmapi_client_id="bot",
        public_url=running_bot_health,
    )
    rc, lines = await _check(settings)
    assert rc == 0, lines
    assert all(line.startswith("✓") for line in lines), lines
    assert "from the database" in _line(lines, "partner token")
    assert "token accepted" in _line(lines, "partner API auth")
    assert "answered" in _line(lines, "partner API get-all")
    assert "get-all and get answered" in _line(lines, "doctor routes")
    assert "running bot" in _line(lines, "public URL")
    assert lines[-1] == "✓ ready"
    assert "stored-access" not in "\n".join(lines)


async def test_public_url_checked_through_a_temporary_listener(
    make_settings: MakeSettings,
) -> None:
    port = free_port()  # the bot is not running: check listens on HTTP_PORT itself
    settings = make_settings(http_host="127.0.0.1", http_port=str(port))  # sandbox mode
    rc, lines = await _check(settings)
    assert rc == 0, lines
    assert "sandbox mode" in _line(lines, "partner API")
    assert f"reaches HTTP_PORT {port}" in _line(lines, "public URL")


async def test_dead_urls_fail_with_a_reason(make_settings: MakeSettings) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(
        tmapi_base_url=dead,
        tmapi_access_token="some-token",
        public_url=dead,
        http_host="127.0.0.1",
        http_port=str(free_port()),  # another port: PUBLIC_URL does not lead here
    )
    rc, lines = await _check(settings)
    assert rc == 1
    partner = _line(lines, "partner API get-all")
    assert partner.startswith("✗") and dead in partner
    public = _line(lines, "public URL")
    assert public.startswith("✗") and "could not arrive" in public
    renewal = _line(lines, "token renewal")
    assert renewal.startswith("✗") and "(not essential)" in renewal
    assert lines[-1].startswith("✗ not ready") and "partner API get-all" in lines[-1]


async def test_refused_token_and_missing_doctor_routes(
    make_settings: MakeSettings, running_bot_health: str
) -> None:
    config = SandboxConfig(pace=None, required_token="the-right-one", doctor_routes=False)
    async with SandboxServer(config) as strict:
        settings = make_settings(
            tmapi_base_url=strict.url, tmapi_access_token="wrong", public_url=running_bot_health
        )
        rc, lines = await _check(settings)
        assert rc == 1
        assert "partner-login" in _line(lines, "partner API auth")

        settings = make_settings(
            tmapi_base_url=strict.url,
            tmapi_access_token="the-right-one",
            public_url=running_bot_health,
        )
        rc, lines = await _check(settings)
    assert rc == 0, lines  # the doctor routes are optional
    doctors = _line(lines, "doctor routes")
    assert doctors.startswith("✗") and "not offered" in doctors and "(not essential)" in doctors


async def test_no_token_at_all(make_settings: MakeSettings, sandbox: SandboxServer) -> None:
    rc, lines = await _check(make_settings(tmapi_base_url=sandbox.url))
    assert rc == 1
    assert "partner-login" in _line(lines, "partner token")


async def test_fresh_database_with_a_refused_token_is_a_line_not_a_traceback(
    make_settings: MakeSettings, running_bot_health: str, tmp_path: object
) -> None:
    """No schema yet (the bot has never run) and a token refused with 403: nothing to lock."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    config = SandboxConfig(pace=None, required_token="the-right-one")
    async with SandboxServer(config) as strict:
        settings = make_settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
            tmapi_base_url=strict.url,
            tmapi_access_token="wrong",
            tmapi_refresh_token="some-refresh",
            tmapi_auth_url=strict.url + "/token",
            tmapi_client_id="bot",
            public_url=running_bot_health,
        )
        rc, lines = await _check(settings)
    assert rc == 1, lines
    assert "empty" in _line(lines, "database")
    assert all(line.startswith(("✓", "✗", "  ")) for line in lines), lines
    auth = next(line for line in lines if line[2:].startswith("partner API"))
    assert auth.startswith("✗") and "partner-login" in auth, lines
    assert any("renewal not tried" in line for line in lines), lines
    assert lines[-1].startswith("✗ not ready")
