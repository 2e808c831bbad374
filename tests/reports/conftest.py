"""End-to-end fixtures of /report: the production dispatcher polling the fake Telegram Bot
API over HTTP, a migrated SQLite database, the sandbox partner API over HTTP, and the
month of tests/reports/seed.py at both. The dispatcher's clock (workflow data ``clock``)
stands at ``seed.TODAY`` (10 June 2026, Moscow): "last month" is May."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Dispatcher, Router
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxServer
from bot.i18n import I18n
from bot.notifications.runtime import status_processor
from bot.outbox import OutboxSender
from bot.settings import Settings
from storage.enums import Role
from storage.repositories import UserRepository
from tests.bot_fixtures import *  # noqa: F403
from tests.bot_fixtures import (  # noqa: F401  (autouse)
    ADMIN_ID,
    BotHarness,
    build_dispatcher,
    no_second_callback_answer,
)
from tests.fake_telegram import FakeTelegram, FakeUser, StoredMessage
from tests.fixed_days import FixedClock
from tests.reports import seed

OTHER_DOCTOR_ACCOUNT_ID = 3002  # a doctor account with no consultations


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(seed.TODAY)


@pytest.fixture
def dispatcher(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    outbox: OutboxSender,
    routers_for_test: list[Router],
    clock: FixedClock,
) -> Dispatcher:
    return build_dispatcher(
        settings, api, session_factory, i18n, outbox, routers_for_test, clock=clock
    )


@dataclass
class World:
    tg: FakeTelegram
    sandbox: SandboxServer
    session_factory: async_sessionmaker[AsyncSession]
    harness: BotHarness
    specs: list[seed.Spec]
    local: dict[int, int]  # spec n → local consultation id
    admin: FakeUser
    coordinator: FakeUser
    ru_coordinator: FakeUser
    doctor: FakeUser

    @property
    def sb(self) -> Any:
        return self.sandbox.sandbox

    async def files(
        self, user: FakeUser, count: int, kind: str = "document"
    ) -> list[StoredMessage]:
        """The first ``count`` photos or documents the bot sent ``user``, once there."""

        def sent() -> list[StoredMessage] | None:
            found = [m for m in user.bot_messages() if getattr(m, kind) is not None]
            return found if len(found) >= count else None

        return await self.tg.wait_for(sent, timeout=30.0)


def read_csv(message: StoredMessage, delimiter: str) -> tuple[bytes, list[list[str]]]:
    """The raw bytes (BOM included) and the rows (header first) of a CSV document."""
    assert message.document is not None and message.document.content is not None
    raw = message.document.content
    text = raw.decode("utf-8-sig")
    return raw, list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.fixture
async def world(
    running_bot: BotHarness,
    fake_tg: FakeTelegram,
    sandbox: SandboxServer,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
) -> AsyncIterator[World]:
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(seed.COORDINATOR_ID, Role.COORDINATOR, display_name="Olga Coord")
        await users.upsert(seed.RU_COORDINATOR_ID, Role.COORDINATOR, display_name="Иван Коорд")
        await users.upsert(
            seed.DOCTOR_ACCOUNT_ID, Role.DOCTOR, display_name="Doc", doctor_id=seed.DOCTOR_ID
        )
        await users.upsert(OTHER_DOCTOR_ACCOUNT_ID, Role.DOCTOR, display_name="Doc2", doctor_id=999)
        for uid in (seed.COORDINATOR_ID, seed.DOCTOR_ACCOUNT_ID, OTHER_DOCTOR_ACCOUNT_ID):
            await users.set_language(uid, "en")
        await users.set_language(seed.RU_COORDINATOR_ID, "ru")
        await session.commit()
    specs = seed.month_specs()
    processor = status_processor(i18n, admin_ids={ADMIN_ID}, cards=False)
    local = await seed.seed_month(sandbox.sandbox, session_factory, processor, specs)
    sandbox.sandbox.clear_requests()
    yield World(
        tg=fake_tg,
        sandbox=sandbox,
        session_factory=session_factory,
        harness=running_bot,
        specs=specs,
        local=local,
        admin=fake_tg.user(ADMIN_ID, first_name="Admin", language_code="en"),
        coordinator=fake_tg.user(seed.COORDINATOR_ID, first_name="Olga", language_code="en"),
        ru_coordinator=fake_tg.user(seed.RU_COORDINATOR_ID, first_name="Иван", language_code="ru"),
        doctor=fake_tg.user(seed.DOCTOR_ACCOUNT_ID, first_name="Doc", language_code="en"),
    )
