"""`python -m bot` start-up failures an operator can cause: one line naming the setting, exit 2.

DESIGN.md, "Configuration": a missing or malformed setting stops the start with one clear
line naming it, never a traceback. These run the real CLI as a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def _run_cli(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=cwd, env=clean,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, err.decode(errors="replace")


def _one_line(stderr: str) -> str:
    """The operator's line (the log records before it are the start-up's own INFO lines)."""
    assert "Traceback" not in stderr, stderr
    assert "level=ERROR" not in stderr and "level=CRITICAL" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("configuration error: "), stderr
    assert sum(ln.startswith("configuration error") for ln in lines) == 1, stderr
    return lines[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "BOT_TOKEN": "123456:ABC-your-token",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": "0",
        "SANDBOX_PACE_SECONDS": "0",
        **extra,
    }


async def test_refused_token_is_one_line_naming_bot_token(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:  # answers 401 to any token but its own, like Telegram
        code, err = await _run_cli(_env(tmp_path, TELEGRAM_API_URL=tg.url), "run", cwd=tmp_path)
    assert code == 2, err
    line = _one_line(err)
    assert "BOT_TOKEN was refused by Telegram" in line
    assert "ABC-your-token" not in err  # the token itself is never printed


async def test_unreachable_telegram_is_one_line_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    code, err = await _run_cli(_env(tmp_path, TELEGRAM_API_URL=url), "run", cwd=tmp_path)
    assert code == 2, err
    line = _one_line(err)
    assert "TELEGRAM_API_URL" in line and url in line and "unreachable" in line


@pytest.mark.parametrize(
    "database_url",
    [
        "nonsense",
        "postgresql://bot:secret@127.0.0.1/bot",  # no async driver named
        "mysql+aiomysql://bot@127.0.0.1/bot",
        "sqlite:///data/bot.db",
    ],
)
async def test_database_url_without_a_supported_async_driver(
    tmp_path: Path, database_url: str
) -> None:
    for command in ("run", "migrate"):
        code, err = await _run_cli(
            _env(tmp_path, DATABASE_URL=database_url), command, cwd=tmp_path
        )
        assert code == 2, err
        line = _one_line(err)
        assert "DATABASE_URL" in line
        assert "secret" not in line  # a URL may carry a password: never echoed


async def test_uncreatable_database_path_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    paths = [blocker / "sub" / "bot.db", blocker / "bot.db"]
    if os.geteuid() != 0:  # root writes into a read-only directory anyway
        paths.append(readonly / "sub" / "bot.db")
    try:
        for path in paths:
            for command in ("run", "migrate"):
                code, err = await _run_cli(
                    _env(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{path}"),
                    command, cwd=tmp_path,
                )
                assert code == 2, err
                assert "DATABASE_URL" in _one_line(err)
    finally:
        readonly.chmod(0o700)
