"""Reconcile: partner API requests and wall time for N open consultations.

    .venv/bin/python -m tests.bench.reconcile [--open 10000] [--changed 0.1] [--runs 5]

One world per invocation: the sandbox holds N open consultations and the local SQLite DB
tracks the same N, in step (every status event already stored; see common.seed_tracked).
One pass of the production `bot.notifications.reconcile.Reconciler.run()` (the scheduled
job's body) is timed, counting the get-all requests the sandbox received (`sandbox.requests`).
Each run, on that world:
  steady:  nothing changed at the partner since the last look (the usual tick);
  changed: `--changed` of them moved one status on (set_status without notify: the web-hooks
           were lost), so the pass records and queues their messages.
Baselines in the same run: the ideal request count ceil(N/40) (URL-bounded batches of about
40 ids), and the bare `PartnerApiClient.get_many(all ids)` time (the fetching alone).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
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
    world,
)

COORDINATORS = list(range(930_000, 930_050))
NEXT_STATUS = {
    "Registered": "PreProcessing",
    "PreProcessing": "Processing",
    "Delayed": "Processing",
    "Processing": "PostProcessing",
    "PostProcessing": "Processing",  # stays open: the set keeps its size across runs
}


def _get_alls(sandbox: Any) -> int:
    return len(sandbox.requests_for("get_all"))


async def measure(n: int, changed_share: float, runs: int) -> list[dict[str, float]]:
    """One seeded world (seeding 10,000 takes a while); `runs` rounds of the three passes."""
    from bot.notifications.reconcile import Reconciler
    from bot.notifications.runtime import status_processor

    results: list[dict[str, float]] = []
    async with world() as w:
        await add_users(w.session_factory, COORDINATORS)
        t0 = time.perf_counter()
        tracked = await seed_tracked(w.session_factory, w.sandbox, n, coordinators=COORDINATORS)
        seeded = time.perf_counter() - t0
        processor = status_processor(w.i18n, admin_ids=(), cards=False)
        reconciler = Reconciler(session_factory=w.session_factory, api=w.api, processor=processor)
        rng = random.Random(11)
        for _ in range(runs):
            figures: dict[str, float] = {"seed s": seeded}
            # Baseline: fetching everything, nothing else.
            w.sandbox.clear_requests()
            t0 = time.perf_counter()
            fetched = await w.api.get_many(tracked.partner_ids)
            figures["bare get_many s"] = time.perf_counter() - t0
            figures["bare get_many requests"] = _get_alls(w.sandbox)
            assert len(fetched) == n, (len(fetched), n)

            w.sandbox.clear_requests()
            t0 = time.perf_counter()
            counts = await reconciler.run()
            figures["steady s"] = time.perf_counter() - t0
            figures["steady requests"] = _get_alls(w.sandbox)
            figures["steady checked"] = counts.checked
            figures["steady recorded"] = counts.recorded

            for partner_id in rng.sample(tracked.partner_ids, int(n * changed_share)):
                record = w.sandbox.callbacks[partner_id]
                await w.sandbox.set_status(partner_id, NEXT_STATUS[record.status], notify=False)
            w.sandbox.clear_requests()
            t0 = time.perf_counter()
            counts = await reconciler.run()
            figures["changed s"] = time.perf_counter() - t0
            figures["changed requests"] = _get_alls(w.sandbox)
            figures["changed checked"] = counts.checked
            figures["changed recorded"] = counts.recorded
            figures["changed queued"] = counts.queued
            figures["changed failed batches"] = counts.failed_batches
            results.append(figures)
    return results


async def main_async(args: argparse.Namespace) -> None:
    quiet_logging()
    runs = await measure(args.open, args.changed, args.runs)

    def m(key: str) -> float:
        return median([r[key] for r in runs])

    ideal = math.ceil(args.open / 40)
    rows = [
        ["ideal: ceil(N/40) URL-bounded batches", ideal, "", "", "", ""],
        [
            "bare client get_many(all ids)",
            m("bare get_many requests"),
            ratio(m("bare get_many requests"), ideal),
            m("bare get_many s"),
            ratio(1, 1),
            "",
        ],
        [
            "reconcile pass, steady (nothing new)",
            m("steady requests"),
            ratio(m("steady requests"), ideal),
            m("steady s"),
            ratio(m("steady s"), m("bare get_many s")),
            f"checked {m('steady checked'):.0f}, recorded {m('steady recorded'):.0f}",
        ],
        [
            f"reconcile pass, {args.changed:.0%} moved on",
            m("changed requests"),
            ratio(m("changed requests"), ideal),
            m("changed s"),
            ratio(m("changed s"), m("bare get_many s")),
            f"recorded {m('changed recorded'):.0f}, queued {m('changed queued'):.0f}, "
            f"failed batches {m('changed failed batches'):.0f}",
        ],
    ]
    print_table(
        f"Reconcile of N = {args.open:,} open consultations (sandbox over HTTP, SQLite); "
        f"median of {args.runs} runs ({machine_note()})",
        ["pass", "get-all requests", "vs ideal", "wall s", "vs bare fetch", "counts"],
        rows,
    )
    print(f"(seeding the sandbox and the DB, not timed above: median {m('seed s'):.1f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
