"""One bot replica as an operator runs it: a `python -m bot` subprocess with its own
INSTANCE_NAME and HTTP port, its log (stderr) read line by line as it comes.

A quiet replica (LOG_LEVEL=WARNING or above, as a benchmark runs it) logs neither its port
nor ``bot_started``: it is given a fixed HTTP_PORT (``free_port``) and ``start`` returns once
that port answers; the caller waits for what tells it the start-up ended (its Bot API calls)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # seconds for a start-up on a busy 2-core machine (imports ≈ 4 s)
STOP_TIMEOUT = 20.0


def free_port() -> int:
    """A loopback port free now, for a quiet replica's HTTP_PORT."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env() -> dict[str, str]:
    """Only what a process needs from ours: the tests must not hand it the developer's
    settings (a .env is not read either: each replica runs in its own empty directory)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env["PYTHONPATH"] = str(ROOT)
    return env


async def run_cli(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str]:
    """`python -m bot <args>` to the end: its exit code and its output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(START_TIMEOUT):
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


@dataclass
class Replica:
    """``start()`` returns once the process logged ``bot_started``; ``lines`` keeps the log of
    every process this replica has run (a restart appends), ``runs`` where each began."""

    name: str
    env: dict[str, str]
    workdir: Path
    lines: list[str] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)
    port: int | None = None
    killed_at: float | None = None  # time.monotonic() of the last SIGKILL
    stopped: bool = False  # by stop(): SIGTERM, as a deploy stops it
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        assert self.port is not None, f"replica {self.name} is not running"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None, f"replica {self.name} was never started"
        return self._proc.pid

    @property
    def quiet(self) -> bool:
        return self.env.get("LOG_LEVEL", "INFO").upper() not in ("DEBUG", "INFO")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.runs.append(len(self.lines))
        self.port = None
        self.killed_at = None
        self.stopped = False
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=self.workdir, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read(self._proc), name=f"log-{self.name}")
        first = self.runs[-1]
        if self.quiet:
            await self._wait_listening(int(self.env["HTTP_PORT"]))
            return
        listening = await self.wait_log(r"http_listening .*port=(\d+)", since=first)
        self.port = int(re.search(r"port=(\d+)", listening).group(1))  # type: ignore[union-attr]
        await self.wait_log(r"bot_started", since=first)

    async def _wait_listening(self, port: int) -> None:
        url = f"http://127.0.0.1:{port}/health"
        async with aiohttp.ClientSession() as http:
            try:
                async with asyncio.timeout(START_TIMEOUT):
                    while self.running:
                        try:
                            async with http.get(url) as response:
                                await response.read()  # any answer: it listens
                            self.port = port
                            return
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.1)  # another process: nothing tells us
            except TimeoutError:
                raise AssertionError(self.describe(f"port {port} silent")) from None
        raise AssertionError(self.describe("the process ended before it listened"))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        with (self.workdir / "bot.log").open("a", encoding="utf-8") as copy:
            while raw := await proc.stdout.readline():
                line = raw.decode(errors="replace").rstrip("\n")
                copy.write(line + "\n")  # kept beside the test's tmp_path for a post-mortem
                async with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()  # the process ended: waiters re-check and give up

    async def wait_log(self, pattern: str, *, since: int = 0, within: float = START_TIMEOUT) -> str:
        """The first log line from ``since`` on matching ``pattern``, once it is there."""
        regex = re.compile(pattern)
        found: list[str] = []

        def seen() -> bool:
            found[:] = [line for line in self.lines[since:] if regex.search(line)][:1]
            return bool(found) or not self.running

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(seen), within)
            except TimeoutError:
                raise AssertionError(self.describe(f"no {pattern!r} in {within} s")) from None
        if not found:
            raise AssertionError(self.describe(f"the process ended before {pattern!r}"))
        return found[0]

    def describe(self, what: str, last: int = 40) -> str:
        tail = "\n".join(self.lines[-last:])
        return f"replica {self.name}: {what}; its last log lines:\n{tail}"

    async def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (its claims and leases stay in the database)."""
        assert self._proc is not None and self.running
        self._proc.send_signal(signal.SIGKILL)
        self.killed_at = time.monotonic()
        await self._proc.wait()
        await self._finish_reading()

    async def stop(self) -> int:
        """SIGTERM and wait for the clean exit; the exit code."""
        if self._proc is None:
            return 0
        self.stopped = True
        if self.running:
            self._proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                code = await self._proc.wait()
        except TimeoutError:
            self._proc.kill()
            code = await self._proc.wait()
        await self._finish_reading()
        return code

    async def _finish_reading(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self.port = None

    async def metrics(self, http: aiohttp.ClientSession) -> dict[str, float]:
        """GET /metrics: every sample as ``name{labels}`` → value."""
        async with http.get(f"{self.url}/metrics") as response:
            assert response.status == 200, await response.text()
            text = await response.text()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                samples[key] = float(value)
        return samples
