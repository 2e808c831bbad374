"""Resident memory of the bot process, and time from process start to the first getUpdates.

    .venv/bin/python -m tests.bench.footprint [--tracked 10000] [--runs 5]

`python -m bot` runs as a subprocess (cwd: a temp dir) with its environment pointing at a
fake Bot API and a sandbox partner API served by this process on 127.0.0.1 (TMAPI_BASE_URL
set: the bot runs no sandbox of its own, as in production), and at a temp SQLite DB; no
Redis, MIGRATE_ON_START left at its default (true), polling. Rows (median over the runs):
  imports only:   the same interpreter importing every module of bot/, api_client/,
                  storage/ (plus aiogram, aiogram-dialog, SQLAlchemy…) and nothing else —
                  more than the bot imports (the CLI tools, the sandbox), for reference;
  bare aiogram:   a minimal aiogram echo bot polling the same fake — the baseline of both
                  RSS and start-up; and, for reference, the same with aiogram's types built
                  on first use as the bot has them (bot/aiogram_types.py);
  bot, first start: `python -m bot` on a database never migrated (its migrations run
                  before the first getUpdates, in a child process);
  bot, empty DB:  `python -m bot` with no consultations, after its first reconcile pass;
  bot, N tracked: the same with N open consultations in its DB (in step with the sandbox),
                  after its first reconcile pass (RECONCILE_INTERVAL_SECONDS=5: the first
                  pass starts 5 s after start-up) fetched all N.
RSS is VmRSS from /proc/<pid>/status once the pass is logged done and a user then talked to
the process (echo bots: 5 echoes; first start: a stranger's /start; the others: one walk of
the wizard to Cancel — so the types a real exchange needs are built); HWM (VmHWM) is the
peak. Start → first getUpdates: from just before
spawning the process until the fake answers its first getUpdates; start CPU: the user +
system CPU seconds the process (and the children it waited for) had used by then.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.common import (
    DEFAULT_RUNS,
    add_users,
    machine_note,
    median,
    print_table,
    quiet_logging,
    ratio,
    seed_tracked,
    temp_db,
)

ROOT = Path(__file__).resolve().parents[2]
COORDINATORS = list(range(940_000, 940_050))
START_TIMEOUT = 60.0
RECONCILE_TIMEOUT = 300.0

IMPORTS_ONLY = r"""
import importlib, pkgutil, sys
from bot.aiogram_types import defer_aiogram_builds
defer_aiogram_builds()  # as `python -m bot run` does
for package in ("bot", "api_client", "storage"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name.endswith("__main__") or ".migrations" in info.name:
            continue
        importlib.import_module(info.name)
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith(("VmRSS:", "VmHWM:")):
            print(line.split()[0], int(line.split()[1]) / 1024)
"""

BARE_AIOGRAM = r"""
import asyncio, os
DEFER_AIOGRAM_BUILDS
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

dp = Dispatcher()

@dp.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "")

async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    await dp.start_polling(bot, polling_timeout=1)

asyncio.run(main())
"""
# The same echo bot, with aiogram's types built on first use as the bot does them (for
# reference: the bot's own weight over aiogram's, with both equally lean).
BARE_AIOGRAM_DEFERRED = BARE_AIOGRAM.replace(
    "DEFER_AIOGRAM_BUILDS",
    "from bot.aiogram_types import defer_aiogram_builds\ndefer_aiogram_builds()",
)
BARE_AIOGRAM = BARE_AIOGRAM.replace("DEFER_AIOGRAM_BUILDS", "")


def _proc_mb(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return math.nan


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of pid and of the children it has waited for (the
    migration child): what the start-up costs, much less noisy than wall time on a busy
    machine."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return math.nan
    # utime, stime, cutime, cstime are fields 14-17 of stat(5); [0] here is field 3.
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Launch:
    start_s: float
    start_cpu_s: float = math.nan
    rss_mb: float = math.nan
    hwm_mb: float = math.nan
    reconcile_s: float = math.nan


async def _read_until(stream: asyncio.StreamReader, needle: bytes, timeout: float) -> bool:  # noqa: ASYNC109
    """Read log lines until one contains needle (bounded); False on timeout or EOF."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = await asyncio.wait_for(stream.readline(), left)
        except TimeoutError:
            return False
        if not line:
            return False
        if needle in line:
            return True
    return False


async def _drain(stream: asyncio.StreamReader) -> None:
    # Keep reading so a chatty child never blocks on a full pipe.
    while await stream.readline():
        pass


async def launch(
    code: str | None,
    env: dict[str, str],
    tg: Any,
    *,
    wait_reconcile: bool,
    cwd: str,
    exchange: Callable[[Any], Awaitable[None]],
) -> Launch:
    """Start `python -m bot` (code=None) or `python -c code`; once it polls (and its first
    reconcile pass is done), let a user talk to it (``exchange``); measure; stop it."""
    args = ["-m", "bot"] if code is None else ["-c", code]
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        try:
            await tg.wait_for(lambda: tg.get_updates_calls > 0 or None, timeout=START_TIMEOUT)
            result = Launch(start_s=time.monotonic() - started, start_cpu_s=_cpu_s(proc.pid))
        except TimeoutError:
            tail = b""
            if proc.returncode is not None:
                tail = await proc.stderr.read()
            raise RuntimeError(
                f"no getUpdates within {START_TIMEOUT}s: {tail.decode(errors='replace')[-2000:]}"
            ) from None
        if wait_reconcile:
            t0 = time.monotonic()
            if await _read_until(proc.stderr, b"reconcile_done", RECONCILE_TIMEOUT):
                result.reconcile_s = time.monotonic() - t0
            else:
                print("note: no reconcile_done logged in time; memory read anyway")
        drain = asyncio.create_task(_drain(proc.stderr))
        await exchange(tg)  # a process that has answered users, not one that only started
        result.rss_mb = _proc_mb(proc.pid, "VmRSS")
        result.hwm_mb = _proc_mb(proc.pid, "VmHWM")
        return result
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        with contextlib.suppress(Exception):
            drain.cancel()


async def imports_only(cwd: str) -> tuple[float, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        IMPORTS_ONLY,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        env=_base_env(),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    values = dict(line.split() for line in out.decode().splitlines())
    return float(values["VmRSS:"]), float(values["VmHWM:"])


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONPATH"] = str(ROOT)
    return env


async def main_async(args: argparse.Namespace) -> None:
    from api_client.sandbox import SandboxConfig, SandboxServer
    from tests.fake_telegram import FakeTelegram

    quiet_logging()
    from tests.bench.crowd import STEPS_PER_CYCLE, echo_user, wizard_user

    async def echo_talk(tg: Any) -> None:
        await echo_user(tg, COORDINATORS[0], STEPS_PER_CYCLE, [])

    async def wizard_walk(tg: Any) -> None:  # /start_callback, doctor, phone, name, Cancel
        await wizard_user(tg, COORDINATORS[0], STEPS_PER_CYCLE, [])

    async def stranger_start(tg: Any) -> None:  # a new database: nobody has access yet
        stranger = tg.user(COORDINATORS[0])
        await stranger.send_command("start", wait=False)
        await tg.wait_for_messages(stranger.chat_id, 1, timeout=START_TIMEOUT)

    results: dict[str, list[Launch]] = {
        "bare": [], "bare_deferred": [], "first": [], "empty": [], "tracked": []
    }  # fmt: skip
    imports: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-cwd-") as cwd:
        async with (
            temp_db() as (empty_url, _empty_factory),
            temp_db() as (url, factory),
            SandboxServer(SandboxConfig(pace=None)) as sandbox,
        ):
            await add_users(factory, COORDINATORS)
            await add_users(_empty_factory, COORDINATORS)
            await seed_tracked(factory, sandbox.sandbox, args.tracked, coordinators=COORDINATORS)

            def env_for(tg: FakeTelegram, db_url: str) -> dict[str, str]:
                return {
                    **_base_env(),
                    "BOT_TOKEN": tg.token,
                    "TELEGRAM_API_URL": tg.url,
                    "DATABASE_URL": db_url,
                    "TMAPI_BASE_URL": sandbox.url,
                    "TMAPI_ACCESS_TOKEN": "bench",
                    "HTTP_HOST": "127.0.0.1",
                    "HTTP_PORT": "0",
                    "PUBLIC_URL": "http://127.0.0.1:9",
                    "RECONCILE_INTERVAL_SECONDS": "5",
                    "LOG_LEVEL": "INFO",
                }

            for run in range(args.runs):
                imports.append(await imports_only(cwd))
                fresh_url = f"sqlite+aiosqlite:///{Path(cwd) / f'fresh-{run}.db'}"
                for key, code, db_url, talk in (
                    ("bare", BARE_AIOGRAM, empty_url, echo_talk),
                    ("bare_deferred", BARE_AIOGRAM_DEFERRED, empty_url, echo_talk),
                    ("first", None, fresh_url, stranger_start),
                    ("empty", None, empty_url, wizard_walk),
                    ("tracked", None, url, wizard_walk),
                ):
                    async with FakeTelegram(check_spec=False) as tg:
                        results[key].append(
                            await launch(
                                code,
                                env_for(tg, db_url),
                                tg,
                                wait_reconcile=key in ("empty", "tracked"),
                                cwd=cwd,
                                exchange=talk,
                            )
                        )

    bare_rss = median([r.rss_mb for r in results["bare"]])
    bare_start = median([r.start_s for r in results["bare"]])

    bare_cpu = median([r.start_cpu_s for r in results["bare"]])

    def row(name: str, launches: list[Launch] | None, rss: float, hwm: float) -> list[Any]:
        start = median([r.start_s for r in launches]) if launches else math.nan
        cpu = median([r.start_cpu_s for r in launches]) if launches else math.nan
        rec = median([r.reconcile_s for r in launches]) if launches else math.nan
        return [
            name,
            rss,
            hwm,
            ratio(rss, bare_rss),
            start,
            ratio(start, bare_start),
            cpu,
            ratio(cpu, bare_cpu),
            rec,
        ]

    def launched(name: str, key: str) -> list[Any]:
        launches = results[key]
        return row(
            name,
            launches,
            median([r.rss_mb for r in launches]),
            median([r.hwm_mb for r in launches]),
        )

    rows = [
        row(
            "imports only (every module)",
            None,
            median([i[0] for i in imports]),
            median([i[1] for i in imports]),
        ),
        launched("bare aiogram echo bot (baseline)", "bare"),
        launched("  the same, aiogram types deferred (reference)", "bare_deferred"),
        launched("python -m bot, first start", "first"),
        launched("python -m bot, empty DB", "empty"),
        launched(f"python -m bot, {args.tracked:,} tracked", "tracked"),
    ]
    print_table(
        f"Bot process footprint; median of {args.runs} runs ({machine_note()})",
        [
            "process",
            "RSS MiB",
            "HWM MiB",
            "RSS vs bare aiogram",
            "start→getUpdates s",
            "vs bare",
            "start CPU s",
            "vs bare",
            "1st reconcile s",
        ],
        rows,
    )
    print(
        "(set-up: SQLite, polling, no Redis, partner API at TMAPI_BASE_URL (the sandbox in the "
        "benchmark's process), MIGRATE_ON_START=true; 'first start' migrates a new database; "
        "RSS read after a user's exchange: 5 echoes (echo bots), a /start from a stranger "
        "(first start), one walk of the wizard to Cancel (the others, after the first "
        "reconcile); 1st reconcile s: from the first getUpdates to 'reconcile_done' in the "
        "log, the pass is scheduled 5 s after start-up)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracked", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
