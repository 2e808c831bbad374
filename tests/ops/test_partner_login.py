"""partner-login: phone → SMS code → token pair stored, against the sandbox."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.sandbox import SandboxConfig, SandboxServer
from bot.input_parsing.phone import mask_phone
from bot.ops.partner_login import partner_login
from storage.repositories import TokenRepository
from tests.ops.conftest import BOT_TOKEN, MakeSettings

Factory = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[2]
PHONE_TYPED = "8 (909) 970-85-93"


@pytest.fixture
async def strict_sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None, required_token="static")) as server:
        yield server


class Terminal:
    """Scripted answers; the SMS code is read from the sandbox when it is asked for."""

    def __init__(self, answers: list[str], sandbox_url: str | None = None) -> None:
        self.answers = answers
        self.sandbox_url = sandbox_url
        self.prompts: list[str] = []
        self.lines: list[str] = []

    async def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        if answer == "<sms>":
            assert self.sandbox_url is not None
            async with httpx.AsyncClient() as http:
                response = await http.get(f"{self.sandbox_url}/_sandbox/sms-code")
            return str(response.json()["code"])
        return answer

    def say(self, line: str) -> None:
        self.lines.append(line)


async def _stored_access(session_factory: Factory) -> str | None:
    async with session_factory() as session:
        row = await TokenRepository(session).get()
        return row.access_token if row is not None else None


async def test_login_stores_the_pair(
    make_settings: MakeSettings, strict_sandbox: SandboxServer, session_factory: Factory
) -> None:
    settings = make_settings(
        tmapi_base_url=strict_sandbox.url,
        tmapi_auth_url=strict_sandbox.url + "/token",
        tmapi_client_id="bot",
    )
    terminal = Terminal(["not a phone", PHONE_TYPED, "000000", "<sms>"], strict_sandbox.url)
    assert await partner_login(settings, ask=terminal.ask, say=terminal.say) == 0

    access = await _stored_access(session_factory)
    assert access is not None and strict_sandbox.sandbox.token_valid(access)
    output = "\n".join(terminal.lines)
    assert mask_phone("+79099708593") in output  # echoed masked
    assert "9099708593" not in output and access not in output
    assert "refused the code" in output  # the wrong code first, then the right one
    async with session_factory() as session:
        row = await TokenRepository(session).get()
        assert row is not None and row.refresh_token and row.expires_at is not None


async def test_sandbox_mode_uses_a_temporary_sandbox_and_stores_nothing(
    make_settings: MakeSettings, session_factory: Factory
) -> None:
    settings = make_settings()  # TMAPI_BASE_URL empty
    terminal = Terminal(["+79099708593"])

    async def ask(prompt: str) -> str:
        if "code" in prompt:  # the sandbox's code is printed: no SMS is sent
            hint = next(line for line in terminal.lines if "the code is" in line)
            return hint.rsplit(" ", 1)[1].rstrip(")")
        return await terminal.ask(prompt)

    assert await partner_login(settings, ask=ask, say=terminal.say) == 0
    # A sandbox pair in the real database would win over the real environment tokens
    # after switching to the real API: nothing is stored, and the operator is told so.
    assert await _stored_access(session_factory) is None
    assert any("sandbox mode" in line for line in terminal.lines)
    output = "\n".join(terminal.lines)
    assert "login flow works" in output and "nothing was stored" in output
    assert "token pair stored" not in output


async def test_real_mode_needs_the_token_endpoint(
    make_settings: MakeSettings, strict_sandbox: SandboxServer, session_factory: Factory
) -> None:
    settings = make_settings(tmapi_base_url=strict_sandbox.url, tmapi_client_id="bot")
    terminal = Terminal([])
    assert await partner_login(settings, ask=terminal.ask, say=terminal.say) == 2
    assert "TMAPI_AUTH_URL is not set" in terminal.lines[0]
    assert await _stored_access(session_factory) is None


async def _read_until(stream: asyncio.StreamReader, marker: bytes, seen: bytearray) -> None:
    while marker not in seen:
        chunk = await stream.read(256)
        if not chunk:
            raise AssertionError(f"output ended before {marker!r}: {seen.decode()!r}")
        seen.extend(chunk)


async def test_cli_end_to_end_over_stdin(
    strict_sandbox: SandboxServer, db_url: str, session_factory: Factory, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "BOT_TOKEN": BOT_TOKEN,
        "DATABASE_URL": db_url,
        "TMAPI_BASE_URL": strict_sandbox.url,
        "TMAPI_AUTH_URL": strict_sandbox.url + "/token",
        "TMAPI_CLIENT_ID": "bot",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "partner-login",
        cwd=tmp_path,  # no .env of the developer's
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    seen = bytearray()
    try:
        async with asyncio.timeout(60):
            await _read_until(proc.stdout, b"phone", seen)
            proc.stdin.write(b"+7 909 970 85 93\n")
            await proc.stdin.drain()
            await _read_until(proc.stdout, b"SMS code:", seen)
            async with httpx.AsyncClient() as http:
                code = (await http.get(f"{strict_sandbox.url}/_sandbox/sms-code")).json()["code"]
            proc.stdin.write(f"{code}\n".encode())
            await proc.stdin.drain()
            seen.extend(await proc.stdout.read())
            rc = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output = seen.decode()
    assert rc == 0, output
    assert "token pair stored" in output
    access = await _stored_access(session_factory)
    assert access is not None and strict_sandbox.sandbox.token_valid(access)
    assert access not in output


async def test_ctrl_c_at_the_phone_prompt_ends_the_command_at_once(
    strict_sandbox: SandboxServer, db_url: str, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "BOT_TOKEN": BOT_TOKEN,
        "DATABASE_URL": db_url,
        "TMAPI_BASE_URL": strict_sandbox.url,
        "TMAPI_AUTH_URL": strict_sandbox.url + "/token",
        "TMAPI_CLIENT_ID": "bot",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "partner-login",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,  # kept open: the prompt waits for a line
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    seen = bytearray()
    try:
        async with asyncio.timeout(60):
            await _read_until(proc.stdout, b"phone", seen)
        proc.send_signal(signal.SIGINT)
        # Bounded wait on the process itself: before the fix it waited for the input thread.
        rc = await asyncio.wait_for(proc.wait(), timeout=10)
        errors = await proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert rc == 130, (seen, errors)
    assert b"Traceback" not in errors and b"Fatal" not in errors, errors
