"""Issue 14: the long-running process imports only what it runs, and builds only the
aiogram types it uses.

`python -m bot` is started as an operator runs it (SQLite, polling, the partner API at
TMAPI_BASE_URL, no Redis) on a database never migrated; once it polls, it prints the
modules it holds. Migrations ran in a child process (`python -m bot migrate`), so Alembic is
not among them; nor is what this set-up never uses. A module imported eagerly again (at the
top of a module the bot imports, or in a start-up step) fails this test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from api_client.sandbox import SandboxConfig, SandboxServer
from storage.db import create_engine
from storage.revisions import code_revisions, database_revision
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]

# Packages (and their submodules) the running bot must not hold in this set-up.
LAZY = (
    "alembic",  # migrations: a child process, only when the schema is behind
    "mako",  # Alembic's templates
    "storage.migrate",
    "api_client.sandbox",  # only when the bot runs its own sandbox (no TMAPI_BASE_URL)
    "bot.ops",  # the CLI tools: check, backup, partner-login
    "matplotlib",  # reports draw only when one is asked for
    "redis",  # REDIS_URL is empty
    "asyncpg",  # SQLite here
    "sqlalchemy.dialects.postgresql",
    "rich",  # httpx's command line client (the dev venv has rich and click)
    "click",
    "pygments",
)

# Prints sys.modules and how many of aiogram's types have a validator built on SIGUSR1,
# then runs the real command line.
PROBE = r"""
import json, signal, sys

def dump(*_):
    import aiogram.types
    from bot.aiogram_types import built_types
    state = {"modules": sorted(sys.modules), "built": built_types(),
             "types": len(aiogram.types.__all__)}
    print(json.dumps(state), flush=True)

signal.signal(signal.SIGUSR1, dump)
from bot.cli import main
sys.exit(main(["run"]))
"""


def _held(modules: list[str], package: str) -> list[str]:
    return [m for m in modules if m == package or m.startswith(package + ".")]


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(database_revision)
    finally:
        await engine.dispose()


async def test_the_running_bot_holds_no_migrations_sandbox_or_cli_modules(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    stderr_path = tmp_path / "stderr.log"
    async with (
        FakeTelegram(check_spec=False) as tg,
        SandboxServer(SandboxConfig(pace=None)) as sandbox,
    ):
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "BOT_TOKEN": tg.token,
                "TELEGRAM_API_URL": tg.url,
                "DATABASE_URL": db_url,
                "TMAPI_BASE_URL": sandbox.url,
                "TMAPI_ACCESS_TOKEN": "test-token",
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": "0",
                "PUBLIC_URL": "http://127.0.0.1:9",
            }
        )
        with stderr_path.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", PROBE,
                cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr,
            )  # fmt: skip
            assert proc.stdout is not None
            try:
                await tg.wait_for(lambda: tg.get_updates_calls > 0 or None, timeout=90)
                stranger = tg.user(5001)
                await stranger.send_command("start", wait=False)
                answered = await tg.wait_for_messages(stranger.chat_id, 1, timeout=60)
                proc.send_signal(signal.SIGUSR1)
                async with asyncio.timeout(30):
                    state = json.loads(await proc.stdout.readline())
                modules: list[str] = state["modules"]
                proc.send_signal(signal.SIGTERM)
                async with asyncio.timeout(30):
                    code = await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
    log = stderr_path.read_text(errors="replace")
    assert code == 0, log[-3000:]
    # The probe saw the running bot, not an empty interpreter.
    assert {"bot.app.runtime", "aiogram", "sqlalchemy.dialects.sqlite", "httpx"} <= set(modules)
    held = {package: _held(modules, package) for package in LAZY}
    assert not any(held.values()), {p: m[:3] for p, m in held.items() if m}
    # aiogram's types were built as used (bot/aiogram_types.py), not all ~300 at import; the
    # ones it used parsed the updates and answers of a real exchange.
    assert answered[0].text
    assert 0 < state["built"] < state["types"] // 5, state
    # ...and the never-migrated database was migrated, by the child.
    assert "schema_migrated from=none" in log
    assert await _revision(db_url) == code_revisions().head


MIGRATE_PROBE = r"""
import json, sys
from bot.cli import main
code = main(["migrate"])
print(json.dumps(sorted(sys.modules)), flush=True)
sys.exit(code)
"""


async def test_the_migrate_command_loads_no_telegram_side(tmp_path: Path) -> None:
    """`python -m bot migrate` is also the start-up's child: it must stay a quick process
    (Alembic and the models), not a second bot importing aiogram and every dialog."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": db_url})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", MIGRATE_PROBE,
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode(errors="replace")
    modules = json.loads(out.decode().splitlines()[-1])
    assert "alembic" in modules  # it did migrate, here
    for package in ("aiogram", "aiogram_dialog", "bot.app", "bot.routers", "bot.dialogs"):
        assert not _held(modules, package), package
    assert await _revision(db_url) == code_revisions().head
