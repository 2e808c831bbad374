"""End-to-end fixtures of /list, /find and the card: the real dispatcher polling the fake
Telegram over HTTP, a migrated SQLite database, and the sandbox seeded with 63
consultations in every status (plus 12 more with doctor 101 for the doctor's view)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client import StaticTokenProvider
from api_client.client import PartnerApiClient
from api_client.retry import RetryPolicy
from api_client.sandbox import SandboxServer
from storage.enums import ConsultationState, EventSource, Role
from storage.hashing import new_secret
from storage.models import Consultation
from storage.repositories import ConsultationRepository, StatusEventRepository, UserRepository
from tests.bot_fixtures import *  # noqa: F403
from tests.bot_fixtures import ADMIN_ID, BotHarness, no_second_callback_answer  # noqa: F401
from tests.fake_telegram import FakeTelegram, FakeUser

COORDINATOR_ID = 2001
DOCTOR_ACCOUNT_ID = 3001
OTHER_DOCTOR_ACCOUNT_ID = 3002
DOCTOR_ID = 101
OTHER_DOCTOR_ID = 102
PHONE = "+79099708593"
SEEDED = 63
DOCTOR_EXTRA = 12


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def api(sandbox: SandboxServer) -> AsyncIterator[PartnerApiClient]:
    """Retries without waiting: a 503 test exhausts them at once."""
    async with PartnerApiClient(
        sandbox.url, StaticTokenProvider("test-token"), retry=RetryPolicy(sleep=_no_sleep)
    ) as client:
        yield client


@dataclass
class World:
    tg: FakeTelegram
    sandbox: SandboxServer
    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    harness: BotHarness
    admin: FakeUser
    coordinator: FakeUser
    doctor: FakeUser
    other_doctor: FakeUser

    @property
    def sb(self) -> Any:
        return self.sandbox.sandbox

    def api_requests(self, route: str | None = None) -> list[Any]:
        return [r for r in self.sb.requests if route is None or r.route == route]

    async def local(self, cid: int) -> Consultation:
        async with self.session_factory() as session:
            row = await ConsultationRepository(session).get(cid)
            assert row is not None
            return row

    async def by_partner(self, partner_id: str) -> Consultation | None:
        async with self.session_factory() as session:
            return await ConsultationRepository(session).by_partner_id(partner_id)

    async def adopt(
        self, partner_id: str, coordinator_id: int = COORDINATOR_ID, *, duration: int | None = 15
    ) -> int:
        """A local bot-started row for a sandbox consultation, as the wizard leaves it."""
        record = self.sb.callbacks[partner_id]
        doctor = self.sb.doctors[record.doctor_id]
        async with self.session_factory() as session:
            repo = ConsultationRepository(session)
            row = await repo.create_starting(
                new_secret(),
                coordinator_id=coordinator_id,
                doctor_id=record.doctor_id,
                doctor_name=f"{doctor['lastName']} {doctor['firstName']}",
                patient_name=record.patient_name,
                patient_phone="+" + "".join(record.phone),
                begin_at=record.begin_at,
                duration_min=duration,
            )
            await repo.bind_partner_id(row.id, partner_id, state=ConsultationState.ACTIVE)
            events = StatusEventRepository(session)
            for entry in record.statuses:
                await events.record(row.id, entry.status, entry.at, EventSource.START)
            if record.is_final:
                await repo.set_state(row.id, ConsultationState.FINAL)
            await session.commit()
            return row.id

    async def mirror_all(self) -> None:
        """The local copy of every sandbox consultation (as list paging would leave it)."""
        async with self.session_factory() as session:
            repo = ConsultationRepository(session)
            for record in self.sb.callbacks.values():
                doctor = self.sb.doctors[record.doctor_id]
                await repo.upsert_external(
                    record.id,
                    doctor_id=record.doctor_id,
                    doctor_name=f"{doctor['lastName']} {doctor['firstName']}",
                    patient_name=record.patient_name,
                    patient_phone="+" + "".join(record.phone),
                    begin_at=record.begin_at,
                    last_status=record.status,
                    last_status_at=record.statuses[-1].at,
                    created_at=record.created_at,
                )
            await session.commit()


@pytest.fixture
async def world(
    running_bot: BotHarness,
    fake_tg: FakeTelegram,
    sandbox: SandboxServer,
    session_factory: async_sessionmaker[AsyncSession],
    api: PartnerApiClient,
) -> AsyncIterator[World]:
    sb = sandbox.sandbox
    sb.seed_callbacks(SEEDED, seed=7, phone=PHONE, phone_every=9)
    for i in range(DOCTOR_EXTRA):
        sb.start_callback(
            doctor_id=DOCTOR_ID,
            phone=("7", f"91600000{i:02d}"),
            patient_full_name=f"Докторов Пациент {i}",
        )
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(COORDINATOR_ID, Role.COORDINATOR, display_name="Coordinator")
        await users.upsert(DOCTOR_ACCOUNT_ID, Role.DOCTOR, display_name="Doc", doctor_id=DOCTOR_ID)
        await users.upsert(
            OTHER_DOCTOR_ACCOUNT_ID, Role.DOCTOR, display_name="Doc2", doctor_id=OTHER_DOCTOR_ID
        )
        for uid in (COORDINATOR_ID, DOCTOR_ACCOUNT_ID, OTHER_DOCTOR_ACCOUNT_ID):
            await users.set_language(uid, "en")
        await session.commit()
    sb.clear_requests()
    yield World(
        tg=fake_tg,
        sandbox=sandbox,
        session_factory=session_factory,
        api=api,
        harness=running_bot,
        admin=fake_tg.user(ADMIN_ID, first_name="Admin", language_code="en"),
        coordinator=fake_tg.user(COORDINATOR_ID, first_name="Coord", language_code="en"),
        doctor=fake_tg.user(DOCTOR_ACCOUNT_ID, first_name="Doc", language_code="en"),
        other_doctor=fake_tg.user(OTHER_DOCTOR_ACCOUNT_ID, first_name="Doc2", language_code="en"),
    )
