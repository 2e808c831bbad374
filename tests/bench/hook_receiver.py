"""The web-hook receiver: requests/s of `GET /hooks/callback/<token>` vs a bare aiohttp handler.

    .venv/bin/python -m tests.bench.hook_receiver [--requests 4000] [--concurrency 32]
        [--tracked 1000] [--runs 5]

The bot's HTTP app (bot.http_server.build_http_app + the notifications' HookReceiver, as
`python -m bot` serves it) on 127.0.0.1, with `--tracked` consultations in a temp SQLite DB
and valid tokens only (every hit is one UPDATE … SET needs_refresh by token hash + commit).
Two modes, each measured:
  worker paused:  the status worker is not running (hits only flag rows);
  worker running: every accepted hit wakes the worker, which takes the flagged rows and
                  fetches them from the sandbox (in step with the DB, so nothing is queued).
Baseline in the same run: a bare aiohttp handler answering "ok" on another loopback port.
Load: one aiohttp client, `--concurrency` requests in flight, `--requests` per run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
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

COORDINATORS = list(range(910_000, 910_020))


async def _serve(app: web.Application, stack: AsyncExitStack) -> str:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}"


async def _load(
    urls: Sequence[str], total: int, concurrency: int
) -> tuple[float, list[float], int]:
    """GET `total` URLs (cycling) with `concurrency` in flight: (seconds, latencies ms, non-200)."""
    latencies: list[float] = []
    bad = 0
    source = itertools.islice(itertools.cycle(urls), total)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal bad
            for url in source:  # a shared iterator: the workers split the requests
                started = time.perf_counter()
                async with http.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        bad += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), 300)
        return time.perf_counter() - started, latencies, bad


@asynccontextmanager
async def _bot_hook_app(tracked: int, worker_running: bool) -> AsyncIterator[tuple[str, Any, Any]]:
    """(base URL, tokens, receiver) of the bot's HTTP app over a seeded DB."""

    async with world() as w:
        await add_users(w.session_factory, COORDINATORS)
        seeded = await seed_tracked(
            w.session_factory, w.sandbox, tracked, coordinators=COORDINATORS
        )
        parts, app = hook_app(w, None)
        async with AsyncExitStack() as stack:
            base = await _serve(app, stack)
            if worker_running:
                await stack.enter_async_context(parts.worker)
            yield base, seeded.tokens, parts
            if worker_running:
                # Let the worker finish what the hits flagged (bounded), outside the timing.
                await wait_until_async(lambda: _flagged(w.session_factory), 30)


async def _flagged(session_factory: Any) -> bool:
    from sqlalchemy import func, select

    from storage.models import Consultation

    async with session_factory() as session:
        count = await session.scalar(
            select(func.count()).select_from(Consultation).where(Consultation.needs_refresh)
        )
    return not count


async def wait_until_async(check: Any, timeout: float) -> bool:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def _bare_app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/hooks/callback/{token}", ok)
    return app


async def one_run(args: argparse.Namespace) -> dict[str, tuple[float, list[float], int]]:
    out: dict[str, tuple[float, list[float], int]] = {}
    async with AsyncExitStack() as stack:
        base = await _serve(await _bare_app(), stack)
        urls = [f"{base}/hooks/callback/t{i:020d}" for i in range(args.tracked)]
        out["bare aiohttp handler"] = await _load(urls, args.requests, args.concurrency)
    for running in (False, True):
        async with _bot_hook_app(args.tracked, running) as (base, tokens, parts):
            urls = [f"{base}/hooks/callback/{t}" for t in tokens]
            name = f"bot receiver, worker {'running' if running else 'paused'}"
            out[name] = await _load(urls, args.requests, args.concurrency)
            stats = parts.receiver.stats
            if stats.accepted != args.requests:
                print(f"note: {name}: accepted {stats.accepted} of {args.requests} ({stats})")
    return out


async def main_async(args: argparse.Namespace) -> None:
    quiet_logging()
    runs: list[dict[str, tuple[float, list[float], int]]] = []
    for _ in range(args.runs):
        runs.append(await one_run(args))
    names = list(runs[0])
    rows = []
    for name in names:
        per_s = [args.requests / r[name][0] for r in runs]
        rows.append(
            [
                name,
                median(per_s),
                median([quantile(r[name][1], 0.5) for r in runs]),
                median([quantile(r[name][1], 0.99) for r in runs]),
                sum(r[name][2] for r in runs),
            ]
        )
    base = rows[0][1]
    for row in rows:
        row.append(ratio(row[1], base))
    print_table(
        f"GET /hooks/callback/<token>: {args.requests:,} requests/run, {args.concurrency} in "
        f"flight, {args.tracked:,} valid tokens; median of {args.runs} runs ({machine_note()})",
        ["server", "req/s", "p50 ms", "p99 ms", "non-200", "vs bare"],
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tracked", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
