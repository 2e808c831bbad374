"""Update handling: the bot's real dispatcher driving wizard steps vs a bare aiogram echo bot.

    .venv/bin/python -m tests.bench.updates [--updates 2000] [--users 50] [--single 250]
        [--runs 5] [--backend sqlite|pg-redis|all]

Both bots poll the same kind of fake Bot API over HTTP (aiogram's default
handle_as_tasks=True, as `python -m bot` runs). Fake users act concurrently, each one step at
a time (a real user reads the answer before the next tap):
  wizard: /start_callback → doctor (button) → phone (text) → name (text) → Cancel (button),
          repeated; the production dispatcher (middlewares, a database session per update,
          persisted FSM/dialog state, the sandbox partner API behind it);
  echo:   a text message answered with the same text by a bare Dispatcher.
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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
from tests.update_costs import Costs

DOCTOR = "Иванова Мария Петровна · Терапевт"
CANCEL = "✖ Отмена"
PHONE = "+7 909 970-85-93"
NAME = "Петров Пётр Иванович"
# What the chat shows once each step was answered (Russian texts, see tests/wizard/helpers).
ASK_DOCTOR = "Шаг 1: врач"
ASK_PHONE = "Шаг 2: телефон пациента"
ASK_NAME = "Шаг 3: ФИО пациента"
ASK_TIME = "Шаг 4: когда начать?"
CANCELLED = "Отменено"
STEPS_PER_CYCLE = 5
FIRST_USER = 700_000
STEP_TIMEOUT = 30.0  # one answer; a run is bounded by updates x this at worst


@dataclass
class RunResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    costs: Costs | None = None  # wizard runs: what the storage did during the run

    @property
    def count(self) -> int:
        return len(self.latencies_ms)


def _last_text(tg: Any, chat_id: int) -> str:
    messages = tg.state.chats[chat_id].messages
    for message in reversed(messages.values()):
        if message.from_bot and not message.deleted:
            return str(message.content)
    return ""


async def _step(
    tg: Any, chat_id: int, act: Callable[[], Any], answered: Callable[[], bool]
) -> float:
    """Enqueue one update (act, without waiting) and wait for its answer; latency in ms."""
    started = time.perf_counter()
    await act()
    await tg.wait_for(lambda: answered() or None, timeout=STEP_TIMEOUT, chat_id=chat_id)
    return (time.perf_counter() - started) * 1000


async def _wizard_user(tg: Any, user_id: int, steps: int, out: list[float]) -> None:
    user = tg.user(user_id, first_name="Коорд", language_code="ru")
    chat = user.chat_id
    marker_count = {"n": 0}

    def shows(marker: str) -> Callable[[], bool]:
        return lambda: marker in _last_text(tg, chat)

    def cancelled() -> bool:
        # "Отменено" stays visible from the last cycle: count its occurrences instead.
        seen = sum(
            1
            for m in tg.state.chats[chat].messages.values()
            if m.from_bot and CANCELLED in m.content
        )
        return seen > marker_count["n"]

    script: list[tuple[Callable[[], Any], Callable[[], bool]]] = [
        (lambda: user.send_command("start_callback", wait=False), shows(ASK_DOCTOR)),
        (lambda: user.press(DOCTOR, wait=False), shows(ASK_PHONE)),
        (lambda: user.send_text(PHONE, wait=False), shows(ASK_NAME)),
        (lambda: user.send_text(NAME, wait=False), shows(ASK_TIME)),
        (lambda: user.press(CANCEL, wait=False), cancelled),
    ]
    for k in range(steps):
        act, answered = script[k % STEPS_PER_CYCLE]
        out.append(await _step(tg, chat, act, answered))
        if k % STEPS_PER_CYCLE == STEPS_PER_CYCLE - 1:
            marker_count["n"] += 1


async def _echo_user(tg: Any, user_id: int, steps: int, out: list[float]) -> None:
    user = tg.user(user_id, first_name="Эхо", language_code="ru")
    chat = user.chat_id
    for k in range(steps):
        text = f"echo {user_id} {k}"
        out.append(
            await _step(
                tg,
                chat,
                lambda t=text: user.send_text(t, wait=False),
                lambda t=text: _last_text(tg, chat) == t,
            )
        )


def _split(total: int, users: int) -> list[int]:
    """Steps per user, multiples of a wizard cycle where possible, summing to total."""
    base, extra = divmod(total, users)
    return [base + (1 if i < extra else 0) for i in range(users)]


async def _drive(tg: Any, users: int, total: int, player: Any) -> RunResult:
    result = RunResult(0.0)
    per_user = _split(total, users)
    started = time.perf_counter()
    await asyncio.gather(
        *(player(tg, FIRST_USER + i, n, result.latencies_ms) for i, n in enumerate(per_user))
    )
    result.seconds = time.perf_counter() - started
    return result


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


async def run_wizard(total: int, users: int, backend: Backend = SQLITE) -> RunResult:
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
                    result = await _drive(w.tg, users, total, _wizard_user)
                    result.costs = db_costs.snapshot() + redis_costs.snapshot() - before
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
                return await _drive(tg, users, total, _echo_user)
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


async def bench_backend(backend: Backend, crowds: list[tuple[int, int]], runs: int) -> None:
    wizard: dict[int, list[RunResult]] = {users: [] for users, _ in crowds}
    echo: dict[int, list[RunResult]] = {users: [] for users, _ in crowds}
    for _ in range(runs):
        for users, total in crowds:
            # Interleaved, so a slow phase of the machine hits both sides alike.
            echo[users].append(await run_echo(total, users))
            wizard[users].append(await run_wizard(total, users, backend))

    headers = ["bot", "updates/s", "p50 ms", "p99 ms", "wall s"]
    for users, total in crowds:
        w_row = _row(f"wizard ({backend.name})", wizard[users])
        e_row = _row("bare echo bot", echo[users])
        print_table(
            f"{total:,} updates over HTTP, {users} concurrent user{'s' if users > 1 else ''}; "
            f"median of {runs} runs ({machine_note()})",
            headers,
            [w_row, e_row],
        )
        print(
            f"ratio wizard/echo: updates/s {ratio(w_row[1], e_row[1])}, "
            f"p50 {ratio(w_row[2], e_row[2]):.1f}x, p99 {ratio(w_row[3], e_row[3]):.1f}x"
        )
    print_table(
        f"storage work per wizard update ({backend.name}; median of {runs} runs)",
        ["crowd", "commits", "state writes", "state reads", "user reads"],
        [
            [f"{users} user{'s' if users > 1 else ''}", *_cost_cells(wizard[users])]
            for users, _ in crowds
        ],
    )


async def main_async(total: int, users: int, single: int, runs: int, which: str) -> None:
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
        await bench_backend(backend, crowds, runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates of the crowd")
    parser.add_argument("--users", type=int, default=50, help="the crowd (1: single only)")
    parser.add_argument("--single", type=int, default=250, help="updates of the one user")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--backend", choices=["sqlite", "pg-redis", "all"], default="all")
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.updates, args.users, args.single, args.runs, args.backend))


if __name__ == "__main__":
    main()
