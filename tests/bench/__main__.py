"""Run the benchmarks in sequence (`make bench`), or a subset by name.

    .venv/bin/python -m tests.bench                      # all, in the order below
    .venv/bin/python -m tests.bench burst reconcile      # a subset
    .venv/bin/python -m tests.bench --runs 5 updates     # --runs is passed to those taking it
    .venv/bin/python -m tests.bench --list

Each benchmark runs as its own `python -m tests.bench.<name>` process, so one's memory, GC
state and open sockets cannot colour the next one's figures. Nothing here asserts a time:
the scripts print tables (medians, and ratios against a baseline from the same run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# name -> (what it measures, accepts --runs)
BENCHMARKS: dict[str, tuple[str, bool]] = {
    "updates": ("2,000 updates: wizard dispatcher vs bare echo bot", True),
    "replica_updates": ("1,000 wizard updates via 1 and 2 webhook replicas vs echo", True),
    "hook_receiver": ("GET /hooks/callback/<token> req/s vs bare aiohttp", True),
    "hook_latency": ("hook → coordinator message, one change at a time", False),
    "burst": ("500 changes at once under Telegram's limits", True),
    "reconcile": ("reconcile of 10,000 open consultations", True),
    "footprint": ("RSS with 10,000 tracked; start → first getUpdates", True),
    "storage_quick": ("storage queries and outbox claims", True),
    "digest": ("morning digest pass: 400 readers over 10,000 consultations", True),
    "report": ("/report over 10,000 consultations: time and RSS", True),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--runs", type=int, default=None, help="runs per benchmark")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (what, _) in BENCHMARKS.items():
            print(f"{name:<15} {what}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; try --list")
    selected = args.names or list(BENCHMARKS)
    failed: list[str] = []
    for name in selected:
        _, takes_runs = BENCHMARKS[name]
        cmd = [sys.executable, "-m", f"tests.bench.{name}"]
        if args.runs is not None and takes_runs:
            cmd += ["--runs", str(args.runs)]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT)
        print(f"=== {name}: exit {code}, {time.perf_counter() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
