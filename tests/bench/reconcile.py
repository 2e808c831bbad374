"""Reconcile: partner API requests, wall time, and the hooks served while it runs.

    .venv/bin/python -m tests.bench.reconcile [--open 10000] [--changed 0.1] [--runs 5]
                                              [--hooks 40] [--partner-ms 0]

One world per invocation: the sandbox holds N open consultations and the local SQLite DB
tracks the same N, in step (every status event already stored; see common.seed_tracked),
and the bot's hook pipeline runs as in production (receiver on its HTTP port, status
worker, outbox sender, fake Bot API). Each run, on that world, passes of the production
`bot.notifications.reconcile.Reconciler.run()` (the scheduled job's body) are timed, with
the get-all requests the sandbox received (`sandbox.requests`):
  steady:  nothing changed at the partner since the last look (the usual tick);
  changed: `--changed` of them moved one status on (set_status without notify: the web-hooks
           were lost), so the pass records and queues their messages;
each with `IN_FLIGHT` get-all requests in flight (production) and with one (the sequential
fetching of before, as the in-run baseline; the ideal request count is ceil(N/40)). The
in-process sandbox answers at once: `--partner-ms` adds a wait to each request, as a partner
over the network would, which is what the requests in flight are for.
Hook latency: `--hooks` web-hooks one at a time (a fresh consultation going to Processing,
each with its own coordinator), from the sandbox's GET to the coordinator's message at the
fake Telegram: with the bot idle, then while a steady pass runs (as many as fit in it), with
1 and with `IN_FLIGHT` requests in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import random
import time
from dataclasses import replace
from typing import Any

from aiohttp import web

from tests.bench.common import (
    DEFAULT_RUNS,
    add_users,
    hook_app,
    machine_note,
    median,
    print_table,
    quantile,
    quiet_logging,
    ratio,
    seed_tracked,
    world,
)

COORDINATORS = list(range(930_000, 930_050))
HOOK_COORDINATORS = 940_000  # one fresh coordinator per measured hook, from here up
DURING_POOL = 3  # consultations ready for the hooks during each pass, × --hooks
NEXT_STATUS = {
    "Registered": "PreProcessing",
    "PreProcessing": "Processing",
    "Delayed": "Processing",
    "Processing": "PostProcessing",
    "PostProcessing": "Processing",  # stays open: the set keeps its size across runs
}


def _get_alls(sandbox: Any) -> int:
    return len(sandbox.requests_for("get_all"))


class HookProbe:
    """Fresh consultations, each with its own coordinator, whose change a hook reports."""

    def __init__(self, w: Any, harness: Any) -> None:
        self.w, self.harness = w, harness
        self.next_user = HOOK_COORDINATORS
        self.ready: list[tuple[int, int, str]] = []  # (coordinator, local id, partner id)
        self.used: list[tuple[int, str]] = []  # (local id, partner id)

    async def prepare(self, count: int) -> None:
        """Have `count` ready (those left over from the last measure count)."""
        wanted = max(0, count - len(self.ready))
        users = list(range(self.next_user, self.next_user + wanted))
        self.next_user += wanted
        await add_users(self.w.session_factory, users)
        for user in users:
            self.w.tg.user(user)
            local_id, partner_id = await self.harness.start(duration_min=None, coordinator_id=user)
            self.ready.append((user, local_id, partner_id))

    async def one(self, into: dict[str, list[float]]) -> None:
        """ms from the partner's GET to its answer, and to the coordinator's message."""
        user, local_id, partner_id = self.ready.pop()
        started = time.perf_counter()
        await self.w.sandbox.set_status(partner_id, "Processing")  # returns once answered
        answered = time.perf_counter()
        await self.w.tg.wait_for(lambda: self.w.tg.bot_messages(user) or None, timeout=60)
        into["answered"].append((answered - started) * 1000)
        into["message"].append((time.perf_counter() - started) * 1000)
        self.used.append((local_id, partner_id))

    async def retire(self) -> None:
        """Close the consultations used (here and at the partner, quietly): the open set the
        passes walk keeps its size from run to run."""
        from storage.enums import ConsultationState
        from storage.repositories import ConsultationRepository

        async with self.w.session_factory() as session:
            repo = ConsultationRepository(session)
            for local_id, partner_id in self.used:
                await self.w.sandbox.set_status(partner_id, "Processed", notify=False)
                await repo.set_state(local_id, ConsultationState.FINAL)
            await session.commit()
        self.used.clear()


async def _move_on(w: Any, partner_ids: list[str], share: float, rng: random.Random) -> None:
    for partner_id in rng.sample(partner_ids, int(len(partner_ids) * share)):
        record = w.sandbox.callbacks[partner_id]
        await w.sandbox.set_status(partner_id, NEXT_STATUS[record.status], notify=False)


async def _drop_backlog(session_factory: Any) -> None:
    from sqlalchemy import false, update

    from storage.models import OutboxMessage

    async with session_factory() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.dead == false())
            .values(dead=True)
        )
        await session.commit()


def _add_latency(api: Any, seconds: float) -> None:
    """Every partner request waits `seconds` first, as for a partner over the network: the
    sandbox in this process answers in no time, which no real partner does."""
    plain = api.list_callbacks

    async def remote(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(seconds)
        return await plain(*args, **kwargs)

    api.list_callbacks = remote


async def measure(
    n: int, changed_share: float, runs: int, hooks: int, partner_ms: float
) -> list[dict[str, Any]]:
    """One seeded world (seeding 10,000 takes a while); `runs` rounds of the passes."""
    from bot.notifications.reconcile import IN_FLIGHT
    from bot.outbox import OutboxSender
    from tests.notifications.harness import Harness

    results: list[dict[str, Any]] = []
    async with world() as w:
        await add_users(w.session_factory, COORDINATORS)
        t0 = time.perf_counter()
        tracked = await seed_tracked(w.session_factory, w.sandbox, n, coordinators=COORDINATORS)
        seeded = time.perf_counter() - t0
        if partner_ms:
            _add_latency(w.api, partner_ms / 1000)
        sender = OutboxSender(w.bot, w.session_factory)
        parts, app = hook_app(w, sender)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        w.stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        await w.stack.enter_async_context(parts.worker)
        harness = Harness(w.session_factory, w.sandbox_server, w.api, w.i18n, team_chat_id=None)
        harness.hook_base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        probe = HookProbe(w, harness)

        # The pass as the bot builds it (bot/notifications/runtime.py): the outbox woken
        # per batch, hooks first; the in-run baseline differs only in its lanes.
        lanes = {
            width: replace(parts.reconciler, in_flight=width, _running=set())
            for width in (1, IN_FLIGHT)
        }
        rng = random.Random(11)

        async def timed_pass(width: int, key: str, figures: dict[str, Any]) -> None:
            w.sandbox.clear_requests()
            t0 = time.perf_counter()
            counts = await lanes[width].run()
            figures[f"{key} s"] = time.perf_counter() - t0
            figures[f"{key} requests"] = _get_alls(w.sandbox)
            figures[f"{key} counts"] = counts

        # The hooks' consultations join the open set: a first pass looks at them once.
        await probe.prepare(hooks)
        await lanes[IN_FLIGHT].run()
        # The sandbox (the partner) and the fake Telegram keep the seeded world in this
        # process; in production they are other processes. Without this, every full
        # collection of the cyclic GC walks their ~100 objects per consultation (0.5–1 s
        # each on a loaded machine), several times per pass.
        gc.collect()
        gc.freeze()
        for _ in range(runs):
            figures: dict[str, Any] = {"seed s": seeded, "in flight": IN_FLIGHT}
            # Baseline: fetching everything, nothing else.
            w.sandbox.clear_requests()
            t0 = time.perf_counter()
            fetched = await w.api.get_many(tracked.partner_ids)
            figures["bare get_many s"] = time.perf_counter() - t0
            figures["bare get_many requests"] = _get_alls(w.sandbox)
            assert len(fetched) == n, (len(fetched), n)

            for width in (1, IN_FLIGHT):
                await timed_pass(width, f"steady {width}", figures)
                await _move_on(w, tracked.partner_ids, changed_share, rng)
                await timed_pass(width, f"changed {width}", figures)

            # Hooks one at a time: idle, then during a steady pass (as many as fit). The
            # sender runs for this part only, with the changed passes' messages dropped:
            # delivering them (25/s) would be what delays the hooks' messages.
            await probe.prepare(hooks + 2 * DURING_POOL * hooks)
            await _drop_backlog(w.session_factory)
            # The passes above grew the sandbox's and the fake's records (statuses,
            # messages) past the freeze: frozen again, or a full collection (~0.6 s on
            # this machine, every ~2 s under a pass) lands in a few hooks and is all
            # their p95 shows, as long as fewer than 20 hooks fit in a pass.
            gc.collect()
            gc.freeze()
            sender.start()
            figures["hooks idle"] = idle = {"answered": [], "message": []}
            for _ in range(hooks):
                await probe.one(idle)
            for width in (1, IN_FLIGHT):
                figures[f"hooks during {width}"] = during = {"answered": [], "message": []}
                keep = DURING_POOL * hooks if width == 1 else 0  # the next pass's share
                t0 = time.perf_counter()
                pass_task = asyncio.create_task(lanes[width].run())
                while not pass_task.done() and len(probe.ready) > keep:
                    await probe.one(during)
                await pass_task
                figures[f"steady {width} with hooks s"] = time.perf_counter() - t0
            await sender.stop()
            await probe.retire()
            results.append(figures)
    return results


async def main_async(args: argparse.Namespace) -> None:
    quiet_logging()
    runs = await measure(args.open, args.changed, args.runs, args.hooks, args.partner_ms)
    width = runs[0]["in flight"]

    def m(key: str) -> float:
        return median([r[key] for r in runs])

    def counts(key: str) -> str:
        c = runs[-1][f"{key} counts"]
        return (
            f"checked {c.checked}, recorded {c.recorded}, queued {c.queued}, "
            f"failed batches {c.failed_batches}"
        )

    ideal = math.ceil(args.open / 40)
    rows: list[list[Any]] = [
        ["ideal: ceil(N/40) URL-bounded batches", ideal, "", "", "", ""],
        [
            "bare client get_many(all ids)",
            m("bare get_many requests"),
            ratio(m("bare get_many requests"), ideal),
            m("bare get_many s"),
            "",
            "",
        ],
    ]
    for kind in ("steady", "changed"):
        for lanes in (1, width):
            key = f"{kind} {lanes}"
            rows.append(
                [
                    f"reconcile, {kind}, {lanes} in flight",
                    m(f"{key} requests"),
                    ratio(m(f"{key} requests"), ideal),
                    m(f"{key} s"),
                    ratio(m(f"{key} s"), m(f"{kind} 1 s")),
                    counts(key),
                ]
            )
    print_table(
        f"Reconcile of N = {args.open:,} open consultations (sandbox over HTTP"
        f"{f' + {args.partner_ms:g} ms per request' if args.partner_ms else ''}, SQLite); "
        f"{args.changed:.0%} moved on in a changed pass; median of {args.runs} runs "
        f"({machine_note()})",
        ["pass", "get-all requests", "vs ideal", "wall s", "vs 1 in flight", "counts (last run)"],
        rows,
    )

    def hook_row(label: str, key: str, wall: str) -> list[Any]:
        def q(what: str, at: float) -> float:
            return median([quantile(r[key][what], at) for r in runs])

        idle = median([quantile(r["hooks idle"]["message"], 0.95) for r in runs])
        return [
            label,
            sum(len(r[key]["message"]) for r in runs),
            q("answered", 0.95),
            q("message", 0.5),
            q("message", 0.95),
            ratio(q("message", 0.95), idle),
            wall,
        ]

    hook_rows = [hook_row("bot idle", "hooks idle", "")] + [
        hook_row(
            f"during a steady reconcile, {lanes} in flight",
            f"hooks during {lanes}",
            f"{m(f'steady {lanes} with hooks s'):.1f} (alone {m(f'steady {lanes} s'):.1f})",
        )
        for lanes in (1, width)
    ]
    print_table(
        "Hook latency: sandbox GET → its answer, and → the coordinator's message at the fake "
        "Telegram, one at a time (ms; quantiles per run, median over runs)",
        [
            "while",
            "hooks (all runs)",
            "GET answered p95",
            "message p50",
            "message p95",
            "p95 vs idle",
            "pass wall s",
        ],
        hook_rows,
    )
    print(f"(seeding the sandbox and the DB, not timed above: median {m('seed s'):.1f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--hooks", type=int, default=40)
    parser.add_argument(
        "--partner-ms", type=float, default=0.0, help="latency added to each partner request"
    )
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
