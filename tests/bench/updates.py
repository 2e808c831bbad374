"""Update handling: the bot's real dispatcher driving wizard steps vs a bare aiogram echo bot.

    .venv/bin/python -m tests.bench.updates [--updates 2000] [--users 50] [--single 250]
        [--runs 5] [--backend sqlite|pg-redis|all] [--no-floors]

Both bots poll the same kind of fake Bot API over HTTP (aiogram's default
handle_as_tasks=True, as `python -m bot` runs). Fake users act concurrently, each one step at
a time (a real user reads the answer before the next tap):
  wizard: /start_callback → doctor (button) → phone (text) → name (text) → Cancel (button),
          repeated; the production dispatcher (middlewares, a database session per update,
          persisted FSM/dialog state, the sandbox partner API behind it);
  echo:   a text message answered with the same text by a bare Dispatcher;
  floors: the same wizard crowd against a bare bot making the wizard's exact requests,
          aiogram-dialog alone (the wizard's first four windows on MemoryStorage) and that
          dialog with the bot's conversation state in one SQL transaction per update
          (tests/bench/update_floors.py): what the crowd costs with less of the bot under it,
          so the table shows where the wizard's gap to the echo bot lies.
The players tap again as soon as they see the answer (no reading time): a closed loop, so
with N users p50 ≈ N / updates/s (Little's law); the line under the table says what that
means for a p50 target. A last table (``--reading``, seconds; 0 skips it) has the same users
read each answer for about that long before the next tap, as people do in a rush: the
latency each tap sees when the crowd does not keep the bot saturated.
Handling time of one update: from the moment it is enqueued at the fake until the fake has
received the bot's answer (the next prompt / the echo is visible in the chat).
updates/s = all updates / wall time of the run. Figures are medians over the runs.

Two crowds per run: one user (``--single`` updates: the cost of one update) and ``--users``
users (``--updates`` updates: throughput and queueing). Per wizard update it also counts what
the storage did (tests/update_costs.py): commits, state writes (transactions or Redis round
trips that wrote conversation state), state reads, user-row reads.
Backends: ``sqlite`` (a temp file, FSM state in the database) and ``pg-redis`` (the replica
set-up: a scratch database on TEST_POSTGRES_URL, FSM state and locks in TEST_REDIS_URL —
whose database is FLUSHED before each run); ``all`` runs the second only when both are set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiogram import Dispatcher
from aiogram.types import Message

from tests.bench.common import (
    DEFAULT_RUNS,
    add_users,
    machine_note,
    median,
    print_table,
    quantile,
    quiet_logging,
    ratio,
    settle_heap,
    world,
)
from tests.bench.crowd import (
    FIRST_USER,
    RunResult,
    drive,
    echo_user,
    requests_of,
    wizard_user,
)


@dataclass(frozen=True)
class Backend:
    name: str
    postgres_url: str | None = None
    redis_url: str | None = None


SQLITE = Backend("sqlite")


def pg_redis() -> Backend | None:
    pg, redis = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    return Backend("pg-redis", pg, redis) if pg and redis else None


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def run_wizard(
    total: int,
    users: int,
    backend: Backend = SQLITE,
    requests: list[str] | None = None,
    reading_s: float = 0.0,
) -> RunResult:
    """The crowd against the bot's dispatcher; ``requests`` (if given) receives its Bot API
    calls; ``reading_s``: each player's time between an answer and its next tap."""
    from bot.app.dispatcher import create_dispatcher
    from bot.http_server import HealthState
    from bot.outbox import OutboxSender
    from tests.fake_telegram import run_polling
    from tests.update_costs import DbCosts, RedisCosts

    extra = {"REDIS_URL": backend.redis_url} if backend.redis_url else {}
    if backend.redis_url:
        await _flush_redis(backend.redis_url)
    async with world(backend.postgres_url, **extra) as w:
        await add_users(w.session_factory, [FIRST_USER + i for i in range(users)])
        sender = OutboxSender(w.bot, w.session_factory)
        dp = create_dispatcher(
            settings=w.settings,
            api=w.api,
            session_factory=w.session_factory,
            i18n=w.i18n,
            outbox_wakeup=sender.wake,
            health=HealthState(is_sandbox=True),
            outbox=sender,
        )
        sender.start()
        db_costs = DbCosts(w.session_factory.kw["bind"])
        redis_costs = RedisCosts()
        try:
            with redis_costs.installed():
                async with run_polling(dp, w.bot, handle_as_tasks=True):
                    settle_heap()  # as run_bot does once started
                    before = db_costs.snapshot() + redis_costs.snapshot()
                    player = partial(wizard_user, reading_s=reading_s)
                    result = await drive(w.tg, users, total, player)
                    result.costs = db_costs.snapshot() + redis_costs.snapshot() - before
            if requests is not None:
                requests.extend(requests_of(w.tg))
            return result
        finally:
            db_costs.close()
            await sender.stop()


async def run_echo(total: int, users: int) -> RunResult:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from tests.fake_telegram import FakeTelegram, run_polling

    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    async with FakeTelegram(check_spec=False) as tg:
        # aiogram's own session, as a bare echo bot has it (not the bot's JSON-body one).
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.url)))
        try:
            async with run_polling(dp, bot, handle_as_tasks=True):
                settle_heap()  # the same heap as the wizard's runs
                return await drive(tg, users, total, echo_user)
        finally:
            await bot.session.close()


def _row(name: str, results: list[RunResult]) -> list[Any]:
    return [
        name,
        median([r.count / r.seconds for r in results]),
        median([quantile(r.latencies_ms, 0.50) for r in results]),
        median([quantile(r.latencies_ms, 0.99) for r in results]),
        median([r.seconds for r in results]),
    ]


def _cost_cells(results: list[RunResult]) -> list[Any]:
    per = [r.costs.per(r.count) for r in results if r.costs is not None]
    names = ("commits", "state_writes", "state_reads", "user_reads")
    return [median([p[n] for p in per]) for n in names]


async def bench_backend(
    backend: Backend, crowds: list[tuple[int, int]], runs: int, floors: bool
) -> None:
    """Interleaved runs, so a slow phase of the machine hits every row alike; ``floors``
    adds the rows of tests/bench/update_floors (what the crowd costs with less of the bot)."""
    from tests.bench.update_floors import FLOORS, REDIS_FLOORS, run_floor

    # The floors without a database are the same for every backend; the state floor is the
    # backend's own.
    floor_set = {**FLOORS, **REDIS_FLOORS} if backend.redis_url else FLOORS
    if backend.redis_url and floors:
        floor_set.pop("aiogram-dialog + state (SQL)")
    names = [f"wizard ({backend.name})", *(floor_set if floors else ()), "bare echo bot"]
    results: dict[tuple[int, str], list[RunResult]] = {}
    for _ in range(runs):
        for users, total in crowds:
            for name in names:
                if name == "bare echo bot":
                    result = await run_echo(total, users)
                elif name in floor_set:
                    result = await run_floor(floor_set[name], total, users)
                else:
                    result = await run_wizard(total, users, backend)
                results.setdefault((users, name), []).append(result)

    headers = ["bot", "updates/s", "p50 ms", "p99 ms", "wall s", "x echo"]
    for users, total in crowds:
        rows = [_row(name, results[(users, name)]) for name in names]
        echo = rows[-1]
        print_table(
            f"{total:,} updates over HTTP, {users} concurrent user{'s' if users > 1 else ''}; "
            f"median of {runs} runs ({machine_note()})",
            headers,
            [[*row, ratio(row[1], echo[1])] for row in rows],
        )
        w_row = rows[0]
        print(
            f"ratio wizard/echo: updates/s {ratio(w_row[1], echo[1])}, "
            f"p50 {ratio(w_row[2], echo[2]):.1f}x, p99 {ratio(w_row[3], echo[3]):.1f}x"
        )
        if users > 1:
            print(
                f"closed loop (no time between taps): p50 ≈ users / updates/s = "
                f"{users} / {w_row[1]:,.0f} = {1000 * users / w_row[1]:,.0f} ms "
                f"(measured {w_row[2]:,.0f}); p50 ≤ 100 ms needs ≥ {users * 10:,} updates/s"
            )
    print_table(
        f"storage work per wizard update ({backend.name}; median of {runs} runs)",
        ["crowd", "commits", "state writes", "state reads", "user reads"],
        [
            [f"{users} user{'s' if users > 1 else ''}", *_cost_cells(results[(users, names[0])])]
            for users, _ in crowds
        ],
    )


async def bench_reading(
    backend: Backend, users: int, total: int, runs: int, reading_s: float
) -> None:
    """The wizard crowd with reading time between taps: the latency of a tap in a rush."""
    results = [await run_wizard(total, users, backend, reading_s=reading_s) for _ in range(runs)]

    def q(p: float) -> float:
        return median([quantile(r.latencies_ms, p) for r in results])

    print_table(
        f"{total:,} updates, {users} users reading each answer ≈ {reading_s:g} s "
        f"(0.5–1.5×, arriving within the first) before the next tap; median of {runs} runs "
        f"({machine_note()})",
        ["bot", "updates/s", "p50 ms", "p95 ms", "p99 ms"],
        [
            [
                f"wizard ({backend.name})",
                median([r.count / r.seconds for r in results]),
                q(0.50),
                q(0.95),
                q(0.99),
            ]
        ],
    )


async def main_async(
    total: int,
    users: int,
    single: int,
    runs: int,
    which: str,
    floors: bool = True,
    reading_s: float = 0.0,
) -> None:
    quiet_logging()
    crowds = [(1, single)] + ([(users, total)] if users > 1 else [])
    backends: list[Backend] = []
    if which in ("sqlite", "all"):
        backends.append(SQLITE)
    if which in ("pg-redis", "all"):
        replica = pg_redis()
        if replica is not None:
            backends.append(replica)
        else:
            print("(pg-redis skipped: TEST_POSTGRES_URL and TEST_REDIS_URL must both be set)")
    for backend in backends:
        await bench_backend(backend, crowds, runs, floors)
        if reading_s > 0 and users > 1:
            # Ten taps a user: long enough for the crowd's taps to overlap at random.
            await bench_reading(backend, users, users * 10, runs, reading_s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates of the crowd")
    parser.add_argument("--users", type=int, default=50, help="the crowd (1: single only)")
    parser.add_argument("--single", type=int, default=250, help="updates of the one user")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--backend", choices=["sqlite", "pg-redis", "all"], default="all")
    parser.add_argument(
        "--no-floors",
        action="store_true",
        help="skip the rows of tests/bench/update_floors (bare traffic, dialog, dialog + state)",
    )
    parser.add_argument(
        "--reading",
        type=float,
        default=1.0,
        help="seconds each user reads an answer before the next tap, last table (0: skip)",
    )
    args = parser.parse_args(argv)
    asyncio.run(
        main_async(
            args.updates,
            args.users,
            args.single,
            args.runs,
            args.backend,
            not args.no_floors,
            args.reading,
        )
    )


if __name__ == "__main__":
    main()
