"""A burst: many consultations change status at once; the fake Bot API enforces the limits.

    .venv/bin/python -m tests.bench.burst [--changes 500] [--coordinators 100] [--runs 5]

Everything real but Telegram, as in hook_latency.py: the sandbox fires its notification GET
at the bot's HTTP listener (receiver → needs_refresh → worker → get_many → outbox → sender)
and the message arrives at the fake Bot API, which enforces Telegram's limits
(`rate_limits.enabled`: 1/s per chat, 30/s overall) and answers 429 beyond them. All
`--changes` consultations go to Processing at the same moment (one `set_status` each,
concurrently); each one's coordinator hears "the call started". The coordinators are
`--coordinators` distinct users (5 consultations each by default), so the outbox's overall
cap of 25 messages/s — not its 1/s per chat — is what binds.
Figures: messages/s delivered (all messages / time from the burst to the last delivery) vs
the 25/s cap; latency from the burst to each message at Telegram (p50/p95 — in a burst the
queue behind the cap is most of it); the 429s the fake had to send.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass
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
    world,
)

WINDOWS = ("per chat", "overall", "group")
OUTBOX_CAP = 25.0  # bot/outbox OutboxSender(global_rate=25)
FIRST_COORDINATOR = 920_000
DELIVERY_TIMEOUT = 180.0


@dataclass
class BurstRun:
    delivered: int
    seconds_to_last: float
    latencies_ms: list[float]
    too_many: int
    fire_seconds: float  # until every GET was answered by the bot
    refused_by: dict[str, int]  # which of the fake's windows answered each 429
    first_to_last: float  # first delivery → last delivery

    @property
    def steady_rate(self) -> float:
        return (self.delivered - 1) / self.first_to_last if self.first_to_last > 0 else 0.0

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds_to_last if self.seconds_to_last else 0.0


def _classify_429s(tg: Any) -> dict[str, int]:
    """Count, per window (per chat / overall / group), the sends the fake refused."""
    from tests.fake_telegram.limits import _wait

    limiter = tg.api.limiter
    original = limiter.check
    counts = {"per chat": 0, "overall": 0, "group": 0}

    def check(chat_id: int, is_group: bool) -> int | None:
        now = limiter._clock()
        chat_times = limiter._per_chat.get(chat_id, ())
        waits = {
            "per chat": _wait(chat_times, limiter.limits.per_chat, now) if chat_times else 0.0,
            "overall": _wait(limiter._overall, limiter.limits.overall, now),
            "group": _wait(chat_times, limiter.limits.per_group, now)
            if is_group and chat_times
            else 0.0,
        }
        result = original(chat_id, is_group)
        if result is not None:
            for name, wait in waits.items():
                if wait > 0:
                    counts[name] += 1
        return result

    limiter.check = check
    return counts


async def one_run(changes: int, coordinators: int, sends_in_flight: int | None) -> BurstRun:
    from bot.outbox import OutboxSender
    from tests.notifications.harness import Harness

    async with world() as w:
        tg = w.tg
        users = [FIRST_COORDINATOR + i for i in range(coordinators)]
        await add_users(w.session_factory, users)
        for user_id in users:
            tg.user(user_id)
        extra = {} if sends_in_flight is None else {"sends_in_flight": sends_in_flight}
        sender = OutboxSender(w.bot, w.session_factory, **extra)
        sender.start()
        w.stack.push_async_callback(sender.stop)
        parts, app = hook_app(w, sender)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        w.stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        await w.stack.enter_async_context(parts.worker)

        harness = Harness(w.session_factory, w.sandbox_server, w.api, w.i18n, team_chat_id=None)
        harness.hook_base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        partner_ids = []
        for n in range(changes):
            _, partner_id = await harness.start(
                duration_min=None, coordinator_id=users[n % coordinators]
            )
            partner_ids.append(partner_id)
        before = len(tg.deliveries())  # nothing is expected; counted to be sure

        tg.rate_limits.enabled = True
        refused_by = _classify_429s(tg)
        started = time.monotonic()  # the fake stamps deliveries with time.monotonic too
        await asyncio.gather(*(w.sandbox.set_status(p, "Processing") for p in partner_ids))
        fired = time.monotonic() - started
        try:
            await tg.wait_for(
                lambda: len(tg.deliveries()) - before >= changes or None,
                timeout=DELIVERY_TIMEOUT,
            )
        except TimeoutError:
            print(f"note: only {len(tg.deliveries()) - before} of {changes} delivered in time")
        deliveries = tg.deliveries()[before:]
        latencies = [(d.at - started) * 1000 for d in deliveries]
        last = max((d.at for d in deliveries), default=started)
        first = min((d.at for d in deliveries), default=started)
        return BurstRun(
            delivered=len(deliveries),
            seconds_to_last=last - started,
            latencies_ms=latencies,
            too_many=tg.too_many_requests_sent,
            fire_seconds=fired,
            first_to_last=last - first,
            refused_by=refused_by,
        )


async def main_async(args: argparse.Namespace) -> None:
    quiet_logging()
    # Each 429 is logged by the sender as a warning; they are counted below instead.
    logging.getLogger("bot.outbox").setLevel(logging.ERROR)
    runs = [
        await one_run(args.changes, args.coordinators, args.sends_in_flight)
        for _ in range(args.runs)
    ]
    rate = median([r.rate for r in runs])
    rows: list[list[Any]] = [
        ["messages delivered (per run)", median([r.delivered for r in runs]), ""],
        ["messages/s delivered", rate, f"{rate / OUTBOX_CAP:.1%} of the 25/s cap"],
        [
            "messages/s, first → last delivery",
            median([r.steady_rate for r in runs]),
            f"{median([r.steady_rate for r in runs]) / OUTBOX_CAP:.1%} of the cap",
        ],
        ["burst → last message, s", median([r.seconds_to_last for r in runs]), ""],
        ["all GETs answered by the bot, s", median([r.fire_seconds for r in runs]), ""],
        ["hook → coordinator p50, ms", median([quantile(r.latencies_ms, 0.5) for r in runs]), ""],
        ["hook → coordinator p95, ms", median([quantile(r.latencies_ms, 0.95) for r in runs]), ""],
        [
            "429 answered by the fake (all runs)",
            sum(r.too_many for r in runs),
            ", ".join(f"{k} {sum(r.refused_by[k] for r in runs)}" for k in WINDOWS),
        ],
    ]
    print_table(
        f"Burst: {args.changes} status changes at once, {args.coordinators} coordinators, "
        f"Telegram limits on; median of {args.runs} runs ({machine_note()})",
        ["figure", "value", "note"],
        rows,
    )
    ideal = args.changes / OUTBOX_CAP
    print(f"(at exactly 25/s the last of {args.changes} messages would leave at ~{ideal:.1f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--coordinators", type=int, default=100)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument(
        "--sends-in-flight", type=int, default=None,
        help="OUTBOX_SENDS_IN_FLIGHT (default: the sender's own, 1)",
    )
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
