"""End-to-end harness of the morning digest: the production dispatcher polling the fake
Telegram Bot API, the outbox sender delivering to it, the digest job, and the sandbox
partner API — all on one injected clock (tests/fixed_days.py ``FixedClock``), so "09:00 in
Moscow on 1 June 2026" is the same moment for the job, the outbox, /settings and the
sandbox, whatever day the tests run.

``World.running()`` starts one "process" (its own engine, bot session, dispatcher, outbox
sender and job) on the test's database; a second ``running()`` after the first is a restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxConfig, SandboxServer
from bot.i18n import I18n
from bot.jobs.digest import DigestCounts, DigestJob
from bot.outbox import OutboxSender
from bot.settings import Settings
from storage.db import create_engine, create_session_factory
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories import UserRepository
from tests.bot_fixtures import *  # noqa: F403
from tests.bot_fixtures import build_bot, build_dispatcher
from tests.fake_telegram import FakeTelegram, FakeUser, run_polling
from tests.fixed_days import MSK, FixedClock

DIGEST_MARK = "☀️"
NSK = ZoneInfo("Asia/Novosibirsk")  # UTC+7


@pytest.fixture
def clock() -> FixedClock:
    """Starts at midnight, 1 June 2026 in Moscow; tests move it with ``World.at``."""
    return FixedClock(datetime(2026, 6, 1, 0, 0, tzinfo=MSK))


@pytest.fixture
async def sandbox(clock: FixedClock) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(pace=None, now=clock)) as server:
        yield server


@dataclass
class Running:
    """One process of the bot: the digest job on its own engine, delivering through its
    outbox sender to the fake Telegram."""

    world: World
    job: DigestJob
    outbox: OutboxSender
    session_factory: async_sessionmaker[AsyncSession]

    async def tick(self, local: datetime | None = None) -> DigestCounts:
        """One pass of the job at ``local`` (any aware time; None: the clock as it is), then
        every queued message delivered."""
        if local is not None:
            self.world.at(local)
        counts = await self.job.run()
        await self.outbox.drain(15)
        return counts


@dataclass
class World:
    tg: FakeTelegram
    db_url: str
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    sandbox: SandboxServer
    i18n: I18n
    clock: FixedClock
    users: dict[int, FakeUser] = field(default_factory=dict)

    def at(self, moment: datetime) -> None:
        """Move the shared clock to ``moment`` (it runs on from there)."""
        self.clock.offset += moment - self.clock()

    async def person(
        self,
        telegram_id: int,
        role: Role,
        *,
        doctor_id: int | None = None,
        lang: str = "ru",
        zone: str | None = None,
        digest_time: str | None = None,
    ) -> FakeUser:
        """A member stored as the invite flow leaves them, and their Telegram account."""
        async with self.session_factory() as session:
            users = UserRepository(session)
            await users.upsert(
                telegram_id, role, display_name=f"u{telegram_id}", doctor_id=doctor_id
            )
            await users.set_language(telegram_id, lang)
            await users.set_timezone(telegram_id, zone)
            if digest_time is not None:
                await users.set_digest_time(telegram_id, digest_time)
            await session.commit()
        user = self.tg.user(telegram_id, first_name=f"u{telegram_id}", language_code=lang)
        self.users[telegram_id] = user
        return user

    def digests(self, chat_id: int) -> list[str]:
        """The digests the chat received (texts, the sandbox's demo mark cut off)."""
        return [
            (m.html or m.text or "").split("\n\n🧪", 1)[0]
            for m in self.tg.bot_messages(chat_id)
            if (m.text or "").startswith(DIGEST_MARK)
        ]

    async def digest_rows(self) -> list[OutboxMessage]:
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.dedupe_key.startswith("digest:"))
                .order_by(OutboxMessage.id)
            )
            return list(rows)

    def job(
        self, session_factory: async_sessionmaker[AsyncSession], wake: Callable[[], None]
    ) -> DigestJob:
        return DigestJob(
            session_factory=session_factory,
            i18n=self.i18n,
            default_timezone=self.settings.default_timezone,
            admin_ids=self.settings.admin_ids,
            outbox_wake=wake,
            now=self.clock,
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Running]:
        """A fresh process on the same database: engine, bot, dispatcher (its /settings on
        the shared clock), outbox sender and digest job; stopped at the end of the block."""
        engine = create_engine(self.db_url)
        session_factory = create_session_factory(engine)
        bot = build_bot(self.tg, self.settings, self.i18n, session_factory)
        sender = OutboxSender(
            bot,
            session_factory,
            team_chat_id=self.settings.team_chat_id,
            admin_ids=self.settings.admin_ids,
            clock=self.clock,
        )
        dp = build_dispatcher(
            self.settings, self.api, session_factory, self.i18n, sender, clock=self.clock
        )
        sender.start()
        try:
            async with run_polling(dp, bot):
                yield Running(self, self.job(session_factory, sender.wake), sender, session_factory)
        finally:
            await sender.stop()
            await bot.session.close()
            await engine.dispose()


@pytest.fixture
def world(
    fake_tg: FakeTelegram,
    db_url: str,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    api: PartnerApiClient,
    sandbox: SandboxServer,
    i18n: I18n,
    clock: FixedClock,
) -> World:
    return World(fake_tg, db_url, settings, session_factory, api, sandbox, i18n, clock)


def msk(day: datetime, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` (may be past 24) in Moscow after the start of ``day``'s date there."""
    start = datetime.combine(day.astimezone(MSK).date(), datetime.min.time(), tzinfo=MSK)
    return start + timedelta(hours=hour, minutes=minute)
