"""Shared pieces of the benchmarks: timing, medians, tables, memory, and seeded worlds.

Every benchmark prints figures (a median over at least five runs, and a ratio against a
baseline measured in the same run); none asserts a time. Only loopback addresses are used.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

DEFAULT_RUNS = 5


# ---------------------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (q in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def ratio(value: float, baseline: float) -> Ratio:
    return Ratio(value / baseline if baseline else math.nan)


class Ratio(float):
    """A float printed with three decimals in tables (ratios near 1 need them)."""

    def __str__(self) -> str:
        return "n/a" if math.isnan(self) else f"{float(self):.3f}"


class Stopwatch:
    """`with Stopwatch() as w: ...` then `w.seconds` / `w.ms`."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started

    @property
    def ms(self) -> float:
        return self.seconds * 1000


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await fn()
    return time.perf_counter() - started, result


# ---------------------------------------------------------------------------- tables


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, Ratio):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [
        max(len(headers[i]), *(len(r[i]) for r in cells)) if cells else len(headers[i])
        for i in range(len(headers))
    ]
    print(f"\n{title}")
    line = "  ".join(
        h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(headers)
    )
    print(line)
    print("-" * len(line))
    for row in cells:
        print(
            "  ".join(
                c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)
            )
        )


def quiet_logging() -> None:
    """INFO lines per request would be part of what gets measured: keep warnings only."""
    import logging

    logging.basicConfig(level=logging.WARNING, force=True)
    for name in ("aiogram", "aiogram.event", "aiogram.dispatcher", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)


# ---------------------------------------------------------------------------- memory


def rss_mb(pid: int | None = None) -> float:
    """Resident set size (VmRSS) in MiB of `pid` (this process by default)."""
    path = f"/proc/{pid}/status" if pid else "/proc/self/status"
    with open(path, encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


# ---------------------------------------------------------------------------- worlds


@asynccontextmanager
async def temp_db(
    postgres_url: str | None = None,
) -> AsyncIterator[tuple[str, async_sessionmaker[AsyncSession]]]:
    """A migrated scratch database: (url, session_factory). A SQLite file in a temp dir, or,
    given ``postgres_url`` (a server, e.g. TEST_POSTGRES_URL), a database created on that
    server for the block and dropped after it."""
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade

    async with AsyncExitStack() as stack:
        if postgres_url:
            url = await stack.enter_async_context(_scratch_postgres(postgres_url))
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        try:
            yield url, create_session_factory(engine)
        finally:
            await engine.dispose()


@asynccontextmanager
async def _scratch_postgres(server_url: str) -> AsyncIterator[str]:
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    async def admin(sql: str) -> None:
        eng = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            async with eng.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await eng.dispose()

    name = f"bench_{uuid.uuid4().hex[:10]}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def add_users(
    session_factory: async_sessionmaker[AsyncSession],
    user_ids: Sequence[int],
    role: Any = None,
) -> None:
    from storage.enums import Role
    from storage.repositories import UserRepository

    async with session_factory() as session:
        repo = UserRepository(session)
        for user_id in user_ids:
            await repo.upsert(user_id, role or Role.COORDINATOR, display_name=f"U{user_id}")
        await session.commit()


@dataclass
class Tracked:
    """Consultations present both at the sandbox and in the local DB, in step."""

    partner_ids: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # plain hook tokens, same order
    local_ids: list[int] = field(default_factory=list)


async def seed_tracked(
    session_factory: async_sessionmaker[AsyncSession],
    sandbox: Any,
    n: int,
    *,
    coordinators: Sequence[int],
    hook_base: str = "http://127.0.0.1:9/hooks/callback",
    seed: int = 7,
) -> Tracked:
    """n open consultations at the sandbox (non-final statuses only) and the same n in the
    local DB as the bot would hold them after following them: state active, a token, the
    coordinator, every status event of the sandbox's history already stored. So a refresh
    of any of them records nothing unless the sandbox moves on."""
    from api_client.models import Callback
    from storage.enums import ConsultationState, EventSource, Origin
    from storage.hashing import hash_secret, new_secret
    from storage.models import Consultation, StatusEvent

    # seed_callbacks cycles through the 7 statuses; 5 of every 7 are open.
    wanted = math.ceil(n * 7 / 5) + 7
    ids = sandbox.seed_callbacks(wanted, random.Random(seed))
    open_ids = [i for i in ids if not sandbox.callbacks[i].is_final][:n]
    for callback_id in ids:
        if callback_id not in open_ids:
            sandbox.callbacks.pop(callback_id, None)
            sandbox._stop_life(callback_id)
    tracked = Tracked()
    now = datetime.now(UTC)
    async with session_factory() as session:
        for offset in range(0, len(open_ids), 1000):
            chunk = open_ids[offset : offset + 1000]
            rows: list[Consultation] = []
            histories: list[Callback] = []
            for k, callback_id in enumerate(chunk):
                record = sandbox.callbacks[callback_id]
                callback = Callback.model_validate(sandbox.callback_json(record))
                histories.append(callback)
                token = new_secret()
                record.notification_url = f"{hook_base}/{token}"
                tracked.tokens.append(token)
                tracked.partner_ids.append(callback_id)
                last = callback.statuses[-1] if callback.statuses else None
                rows.append(
                    Consultation(
                        token_hash=hash_secret(token),
                        partner_id=callback_id,
                        state=ConsultationState.ACTIVE,
                        origin=Origin.BOT,
                        coordinator_id=coordinators[(offset + k) % len(coordinators)],
                        doctor_id=record.doctor_id,
                        doctor_name=callback.doctor_full_name or "Доктор",
                        patient_name="Пациент Бенчмарк",
                        patient_name_search="пациент бенчмарк",
                        patient_phone=f"+7909{(offset + k) % 10_000_000:07d}",
                        duration_min=record.duration_min,
                        last_status=last.status.id.value if last and last.status else None,
                        last_status_at=last.created_at_utc if last else None,
                        needs_refresh=False,
                        # Followed since the start: the booking was announced then.
                        announced_at=now,
                        created_at=record.created_at,
                        updated_at=now,
                    )
                )
            session.add_all(rows)
            await session.flush()
            for row, callback in zip(rows, histories, strict=True):
                tracked.local_ids.append(row.id)
                session.add_all(
                    StatusEvent(
                        consultation_id=row.id,
                        status=entry.status.id.value,
                        occurred_at=entry.created_at_utc,
                        source=EventSource.RECONCILE,
                        recorded_at=now,
                    )
                    for entry in callback.statuses
                    if entry.status is not None and entry.created_at_utc is not None
                )
            await session.flush()
        await session.commit()
    return tracked


def sandbox_settings_env(tg_url: str, tg_token: str, db_url: str) -> dict[str, str]:
    return {
        "BOT_TOKEN": tg_token,
        "TELEGRAM_API_URL": tg_url,
        "DATABASE_URL": db_url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": "0",
    }


@dataclass
class World:
    """A temp DB, the fake Bot API, the sandbox partner API, a client, settings, a bot."""

    db_url: str
    session_factory: async_sessionmaker[AsyncSession]
    tg: Any  # FakeTelegram
    sandbox_server: Any  # SandboxServer
    api: Any  # PartnerApiClient
    settings: Any  # Settings
    bot: Any  # aiogram Bot (demo mark installed: sandbox mode)
    i18n: Any
    stack: AsyncExitStack

    @property
    def sandbox(self) -> Any:
        return self.sandbox_server.sandbox


@asynccontextmanager
async def world(postgres_url: str | None = None, **settings_extra: str) -> AsyncIterator[World]:
    """Everything a benchmark drives; on SQLite, or on a scratch PostgreSQL database of the
    server ``postgres_url`` (``settings_extra`` may add REDIS_URL and the like)."""
    from api_client.auth import StaticTokenProvider
    from api_client.client import PartnerApiClient
    from api_client.sandbox import SandboxConfig, SandboxServer
    from bot.app.telegram import install_demo_mark
    from bot.i18n import I18n
    from bot.settings import load_settings
    from tests.fake_telegram import FakeTelegram, make_bot

    async with temp_db(postgres_url) as (url, factory), AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram(check_spec=False))
        sandbox = await stack.enter_async_context(SandboxServer(SandboxConfig(pace=None)))
        api = await stack.enter_async_context(
            PartnerApiClient(sandbox.url, StaticTokenProvider("bench"))
        )
        settings = load_settings({**sandbox_settings_env(tg.url, tg.token, url), **settings_extra})
        i18n = I18n()
        bot = make_bot(tg)
        install_demo_mark(bot, i18n, factory)
        stack.push_async_callback(bot.session.close)
        yield World(url, factory, tg, sandbox, api, settings, bot, i18n, stack)


def hook_app(w: World, outbox: Any) -> tuple[Any, Any]:
    """The notifications' parts (receiver, worker) built as the app builds them, and the bot's
    HTTP app serving the receiver — as in production, without Telegram polling."""
    from bot.app.runtime import Runtime
    from bot.http_server import HealthState, build_http_app
    from bot.notifications.runtime import build

    health = HealthState(is_sandbox=True)
    rt = Runtime(
        settings=w.settings,
        stack=w.stack,
        i18n=w.i18n,
        session_factory=w.session_factory,
        api=w.api,
        outbox=outbox,
        health=health,
    )
    parts = build(rt)
    app = build_http_app(
        session_factory=w.session_factory, health=health, extra_routes=[parts.receiver.setup]
    )
    return parts, app


def settle_heap() -> None:
    """What the bot does once started (bot.app.runtime.settle_heap, when this version of it
    has one): before a measured run, what the set-up built is taken out of the garbage
    collector's sight. A no-op on an older bot, so its figures stay what it did."""
    from bot.app import runtime

    settle = getattr(runtime, "settle_heap", None)
    if callable(settle):
        settle()


def machine_note() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
