"""Wizard updates through the replica set-up (issue 14): 1 and 2 webhook replicas vs echo.

    .venv/bin/python -m tests.bench.replica_updates [--updates 1000] [--users 50] [--runs 3]

Needs TEST_POSTGRES_URL (a scratch database is created per set-up) and TEST_REDIS_URL (its
database is FLUSHED); without them it says so and does nothing.

What: the crowd of tests/bench/updates.py (``--users`` fake users, each walking
/start_callback → doctor → phone → name → Cancel one step at a time) against the deployment
of issue 13 instead of one process: tests/replicas/cluster.py's ``python -m bot run``
replicas (webhook mode, LOG_LEVEL=WARNING, PostgreSQL + Redis) behind a round-robin proxy.
The fake Bot API (spec checks off, as updates.py's) POSTs each update to the proxy's URL,
one request at a time (where Telegram would open up to 40 connections: a ceiling of its
own at some rate); the sandbox partner API answers the replicas. The harness (fake Bot
API, proxy, sandbox, players) is this process, on one event loop.
Set-ups: 1 replica, then 2; each is started once, then an unmeasured warm-up crowd walks
every replica through the wizard (first-use costs: connections, caches).

How: each run is a fresh crowd (new user ids, registered as coordinators before the clock
starts), paired with updates.py's in-process bare echo bot (``run_echo``, long polling)
measured just before it, so both sides of a ratio see the machine in the same mood.
Latency: from the update's enqueue at the fake to the bot's answer visible in the chat;
updates/s = updates / wall time of the crowd. Medians of ``--runs``.
CPU ms/update: utime + stime of each replica process (/proc/<pid>/stat) and of this process
(time.process_time: the harness) over the crowd, divided by the crowd's updates.

Reading it: on a 2-core machine the harness shares the cores with the replicas (and the
database, Redis), so the 2-replica updates/s is bounded by the machine rather than the bot;
the CPU columns are the machine-independent figure (PostgreSQL's and Redis's CPU is in
none of them). 1000 / the "replicas" column is the updates/s one core of bot processes
serves; a second replica should halve each one's share, not raise the sum (a raised sum is
coordination cost: Redis locks, database round trips, two idle loops). The echo bot and its
harness share one process and one core, while the replicas have cores beside the harness:
"x echo" flatters the replicas on a machine with cores to spare, and squeezes them here.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.common import (
    add_users,
    machine_note,
    median,
    print_table,
    quiet_logging,
    ratio,
    settle_heap,
)
from tests.bench.crowd import FIRST_USER, STEPS_PER_CYCLE, RunResult, drive, wizard_user
from tests.bench.updates import _row, run_echo
from tests.fake_telegram import FakeTelegram
from tests.replicas.cluster import Cluster

SETUPS: tuple[tuple[str, ...], ...] = (("a",), ("a", "b"))
HARNESS = "harness"
WARMUP_CYCLES = 4  # wizard cycles per replica, unmeasured (round robin spreads them)
TARGET = 0.25  # issue 14: updates/s of the wizard crowd ≥ this x the echo bot's
TICKS = os.sysconf("SC_CLK_TCK")

Player = Callable[[Any, int, int, list[float]], Awaitable[None]]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    fields = stat.rpartition(")")[2].split()  # the name (field 2) may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Measured:
    run: RunResult
    cpu: dict[str, float]  # replica name, and HARNESS → CPU seconds over the crowd

    def ms_per_update(self, who: str) -> float:
        return self.cpu[who] / self.run.count * 1000 if who in self.cpu else math.nan


def _shifted(offset: int) -> Player:
    """updates.py's wizard player for user ids ``offset`` above its own: a fresh crowd per run
    (the player counts "Cancelled" answers in its chat, so the chat must be new)."""

    async def play(tg: Any, user_id: int, steps: int, out: list[float]) -> None:
        await wizard_user(tg, user_id + offset, steps, out)

    return play


async def crowd(cluster: Cluster, users: int, total: int, offset: int) -> Measured:
    await add_users(cluster.sessions, [FIRST_USER + offset + i for i in range(users)])
    pids = {name: replica.pid for name, replica in cluster.replicas.items()}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    harness_before = time.process_time()
    run = await drive(cluster.tg, users, total, _shifted(offset))
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    cpu[HARNESS] = time.process_time() - harness_before
    for replica in cluster.replicas.values():
        assert replica.running, replica.describe("ended during the crowd")
    return Measured(run, cpu)


@dataclass
class SetupResult:
    names: tuple[str, ...]
    measured: list[Measured]
    echo: list[RunResult]  # paired with ``measured``, run for run

    @property
    def label(self) -> str:
        n = len(self.names)
        return f"{n} replica{'s' if n > 1 else ''}"

    def cpu_ms(self, who: str) -> float:
        """Median CPU ms per update of ``who`` (NaN: no such process in this set-up)."""
        return median([m.ms_per_update(who) for m in self.measured])


async def bench_setup(
    names: tuple[str, ...], total: int, users: int, runs: int, workdir: Path
) -> SetupResult:
    postgres, redis = os.environ["TEST_POSTGRES_URL"], os.environ["TEST_REDIS_URL"]
    home = workdir / "-".join(names)  # each replica's own empty directory goes in it
    home.mkdir()
    cluster = Cluster(
        postgres,
        redis,
        home,
        names=names,
        log_level="WARNING",  # INFO: a line per update to write here and read in the harness
        tg=FakeTelegram(check_spec=False),
    )
    result = SetupResult(names, [], [])
    try:
        await cluster.open()
        settle_heap()  # the harness's start-up out of its collector's sight, as run_echo does
        warm = WARMUP_CYCLES * len(names)
        await crowd(cluster, warm, warm * STEPS_PER_CYCLE, offset=0)
        for k in range(runs):
            result.echo.append(await run_echo(total, users))
            offset = warm + k * users  # never a chat of an earlier crowd
            result.measured.append(await crowd(cluster, users, total, offset))
    finally:
        await cluster.close()
    return result


def report(results: list[SetupResult], total: int, users: int, runs: int) -> None:
    rows: list[list[Any]] = []
    for r in results:
        wizard = _row(f"wizard, {r.label}", [m.run for m in r.measured])
        echo = _row(f"bare echo bot (beside {r.label})", r.echo)
        rows += [[*wizard, ratio(wizard[1], echo[1])], [*echo, ratio(1.0, 1.0)]]
    print_table(
        f"{total:,} updates, {users} concurrent users: webhook replicas on PostgreSQL + Redis "
        f"vs the in-process echo bot; median of {runs} run{'s' if runs > 1 else ''} "
        f"({machine_note()})",
        ["bot", "updates/s", "p50 ms", "p99 ms", "wall s", "x echo"],
        rows,
    )
    print(f"issue 14 asks for >= {TARGET:.2f}x echo's updates/s")

    replicas = sorted({name for r in results for name in r.names})
    headers = ["set-up", *(f"replica {n}" for n in replicas), "replicas", HARNESS, "all"]
    cpu_rows: list[list[str]] = []
    for r in results:
        per_replica = [r.cpu_ms(n) for n in replicas]
        in_replicas = sum(v for v in per_replica if not math.isnan(v))
        harness = r.cpu_ms(HARNESS)
        figures = [*per_replica, in_replicas, harness, in_replicas + harness]
        cpu_rows.append([r.label, *("n/a" if math.isnan(v) else f"{v:.2f}" for v in figures)])
    print_table(
        "CPU ms per update (utime+stime over the crowd / its updates; median of runs)",
        headers,
        cpu_rows,
    )


async def main_async(total: int, users: int, runs: int) -> int:
    if not (os.environ.get("TEST_POSTGRES_URL") and os.environ.get("TEST_REDIS_URL")):
        print("(skipped: TEST_POSTGRES_URL and TEST_REDIS_URL must both be set)")
        return 0
    quiet_logging()
    results: list[SetupResult] = []
    with tempfile.TemporaryDirectory(prefix="replica-bench-") as tmp:
        for names in SETUPS:
            results.append(await bench_setup(names, total, users, runs, Path(tmp)))
    report(results, total, users, runs)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1000, help="updates of each crowd")
    parser.add_argument("--users", type=int, default=50, help="concurrent fake users")
    parser.add_argument("--runs", type=int, default=3, help="crowds per set-up (median)")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args.updates, args.users, args.runs))


if __name__ == "__main__":
    raise SystemExit(main())
