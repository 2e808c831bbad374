"""`python -m bot` as an operator runs it: against the fake Telegram and the embedded sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def _read_until(stream: asyncio.StreamReader, pattern: str, lines: list[str]) -> str:
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError("process ended before: " + pattern + "\n" + "".join(lines))
        line = raw.decode(errors="replace")
        lines.append(line)
        if re.search(pattern, line):
            return line


async def test_python_m_bot_starts_serves_health_answers_and_stops(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        env = {
            k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "BOT_TOKEN": tg.token,
                "TELEGRAM_API_URL": tg.url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": "0",
                "ADMIN_IDS": "7",
                "SANDBOX_PACE_SECONDS": "0",
            }
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        lines: list[str] = []
        try:
            async with asyncio.timeout(30):
                listening = await _read_until(proc.stderr, r"http_listening", lines)
                await _read_until(proc.stderr, r"bot_started", lines)
            port = int(re.search(r"port=(\d+)", listening).group(1))  # type: ignore[union-attr]
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/health") as response,
            ):
                assert response.status == 200
                health = json.loads(await response.text())
            assert health["database"] == "ok"
            assert health["sandbox"] is True
            assert health["partner_api"] == "ok"
            assert health["outbox_backlog"] == 0

            # It polls the fake: a stranger gets the answer with the demo mark.
            stranger = tg.user(4242, language_code="en")
            await stranger.send_text("hello", wait=False)
            (reply,) = await tg.wait_for_messages(4242, 1, timeout=15)
            assert "4242" in (reply.text or "") and "DEMO" in (reply.text or "")
            assert tg.commands("default", "") or tg.calls("setMyCommands")
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            rest = await proc.stderr.read()
            code = await proc.wait()
        output = "".join(lines) + rest.decode(errors="replace")
        assert code == 0, output
        assert "bot_stopped" in output
        assert "Traceback" not in output
