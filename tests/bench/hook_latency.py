"""Latency from the partner's notification GET to the coordinator's message in Telegram.

    .venv/bin/python -m tests.bench.hook_latency [--changes 200]

Everything real but Telegram: the sandbox partner API fires its GET at the bot's HTTP
listener (receiver → needs_refresh → worker → get_many → outbox → sender), and the message
arrives at the fake Bot API. Each change is one consultation going to Processing, one at a
time, each with its own coordinator (so Telegram's 1-message-a-second-per-chat pacing is
not what gets measured). Baseline in the same run: the bare round trip of that GET (the
sandbox's `set_status` returns once the bot answered it).
Not collected by pytest (tests/bench is excluded).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from aiohttp import web

from api_client.auth import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxConfig, SandboxServer
from bot.app.runtime import Runtime
from bot.app.telegram import install_demo_mark
from bot.http_server import HealthState, build_http_app
from bot.i18n import I18n
from bot.notifications.runtime import build
from bot.outbox import OutboxSender
from bot.settings import load_settings
from storage.db import create_engine, create_session_factory
from storage.enums import Role
from storage.migrate import upgrade
from storage.repositories import UserRepository
from tests.fake_telegram import FakeTelegram, make_bot
from tests.notifications.harness import Harness


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def run(changes: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        session_factory = create_session_factory(engine)
        i18n = I18n()
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            tg = await stack.enter_async_context(FakeTelegram(check_spec=False))
            sandbox = await stack.enter_async_context(SandboxServer(SandboxConfig(pace=None)))
            api = await stack.enter_async_context(
                PartnerApiClient(sandbox.url, StaticTokenProvider("bench"))
            )
            settings = load_settings(
                {
                    "BOT_TOKEN": tg.token,
                    "TELEGRAM_API_URL": tg.url,
                    "DATABASE_URL": url,
                    "HTTP_PORT": "0",
                }
            )
            bot = make_bot(tg)
            install_demo_mark(bot, i18n, session_factory)
            stack.push_async_callback(bot.session.close)
            sender = OutboxSender(bot, session_factory)
            sender.start()
            stack.push_async_callback(sender.stop)
            health = HealthState(is_sandbox=True)
            rt = Runtime(
                settings=settings,
                stack=stack,
                i18n=i18n,
                session_factory=session_factory,
                api=api,
                outbox=sender,
                health=health,
            )
            parts = build(rt)
            app = build_http_app(
                session_factory=session_factory, health=health, extra_routes=[parts.receiver.setup]
            )
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            await stack.enter_async_context(parts.worker)

            harness = Harness(session_factory, sandbox, api, i18n, team_chat_id=None)
            harness.hook_base = f"http://127.0.0.1:{runner.addresses[0][1]}"

            get_rtt: list[float] = []
            to_message: list[float] = []
            for n in range(changes):
                coordinator = 900_000 + n
                tg.user(coordinator)
                async with session_factory() as session:
                    await UserRepository(session).upsert(coordinator, Role.COORDINATOR)
                    await session.commit()
                _, partner_id = await harness.start(duration_min=None, coordinator_id=coordinator)
                # The start announcement (doctor / team) is nobody's here: nothing queued.
                started = time.perf_counter()
                await sandbox.sandbox.set_status(partner_id, "Processing")
                answered = time.perf_counter()
                await tg.wait_for(lambda c=coordinator: tg.bot_messages(c) or None, timeout=10)
                arrived = time.perf_counter()
                get_rtt.append((answered - started) * 1000)
                to_message.append((arrived - started) * 1000)

            rows = [
                ("bare GET round trip (hook answered)", get_rtt),
                ("GET → coordinator's message at Telegram", to_message),
            ]
            print(f"\n{changes} changes, one at a time (ms)")
            print(f"{'measure':<42} {'median':>8} {'p95':>8} {'max':>8}")
            for name, values in rows:
                print(
                    f"{name:<42} {statistics.median(values):>8.1f} "
                    f"{_quantile(values, 0.95):>8.1f} {max(values):>8.1f}"
                )
            wrong = [h for h in tg.calls("sendMessage") if h.status != 200]
            print(f"sendMessage errors: {len(wrong)}; receiver stats: {parts.receiver.stats}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.changes))


if __name__ == "__main__":
    main()
