"""A consultation's life without the Telegram side: receiver on a real port + worker.

Used by the worker-level integration tests; the end-to-end tests reuse the helpers to seed
users and start consultations the way the wizard does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.models import Phone
from api_client.sandbox.server import SandboxServer
from bot.i18n import I18n
from bot.notifications.receiver import HookReceiver, TokenBucketLimiter, db_mark_refresh
from bot.notifications.runtime import status_processor
from bot.notifications.worker import StatusWorker
from bot.services.status_changes import StatusProcessor
from storage.enums import EventSource, NotifyMode, Role
from storage.hashing import new_secret
from storage.models import Consultation, OutboxMessage, StatusEvent
from storage.repositories import ConsultationRepository, StatusEventRepository, UserRepository

COORDINATOR = 5001
DOCTOR_ACCOUNT = 6001
DOCTOR_ID = 101
TEAM_CHAT = -100777
PHONE = "+79099708593"
PATIENT = "Петров Пётр Петрович"


@dataclass
class Harness:
    session_factory: async_sessionmaker[AsyncSession]
    sandbox_server: SandboxServer
    api: PartnerApiClient
    i18n: I18n
    team_chat_id: int | None = TEAM_CHAT
    admin_ids: frozenset[int] = frozenset()
    outbox_wakes: int = 0
    hook_base: str = ""
    receiver: HookReceiver | None = None
    worker: StatusWorker | None = None
    _runner: web.AppRunner | None = None
    _worker_cm: Any = None
    worker_ran: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def sandbox(self) -> Any:
        return self.sandbox_server.sandbox

    def processor(self) -> StatusProcessor:
        return status_processor(
            self.i18n, admin_ids=self.admin_ids, team_chat_id=self.team_chat_id, cards=False
        )

    def _outbox_wake(self) -> None:
        self.outbox_wakes += 1

    def new_worker(self) -> StatusWorker:
        return StatusWorker(
            session_factory=self.session_factory,
            api=self.api,
            processor=self.processor(),
            outbox_wake=self._outbox_wake,
            poll_interval=3600,
        )

    async def serve_receiver(
        self, *, wake: bool = False, limiter: TokenBucketLimiter | None = None
    ) -> None:
        """The receiver on a real port. `wake=False`: tests drive the worker by hand."""
        self.worker = self.new_worker()
        worker = self.worker
        self.receiver = HookReceiver(
            db_mark_refresh(self.session_factory),
            worker.wake if wake else (lambda: None),
            limiter=limiter,
        )
        app = web.Application()
        self.receiver.setup(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.hook_base = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- people and consultations ----------------------------------------------------------

    async def add_users(
        self,
        *,
        coordinator_mode: NotifyMode = NotifyMode.ESSENTIALS,
        doctor_mode: NotifyMode = NotifyMode.ESSENTIALS,
        coordinator_lang: str = "ru",
        doctor_lang: str = "en",
    ) -> None:
        async with self.session_factory() as session:
            users = UserRepository(session)
            await users.upsert(COORDINATOR, role=Role.COORDINATOR, display_name="Анна Координатор")
            await users.upsert(
                DOCTOR_ACCOUNT, role=Role.DOCTOR, display_name="Dr", doctor_id=DOCTOR_ID
            )
            await users.set_language(COORDINATOR, coordinator_lang)
            await users.set_language(DOCTOR_ACCOUNT, doctor_lang)
            await users.set_notify_mode(COORDINATOR, coordinator_mode)
            await users.set_notify_mode(DOCTOR_ACCOUNT, doctor_mode)
            await session.commit()

    async def start(
        self,
        *,
        begin_at: datetime | None = None,
        duration_min: int | None = 30,
        card_message_id: int | None = None,
        coordinator_id: int = COORDINATOR,
    ) -> tuple[int, str]:
        """Start a consultation as the wizard does: local record with a token first, then
        start-callback with the hook URL, then bind and store the Registered event."""
        token = new_secret()
        async with self.session_factory() as session:
            row = await ConsultationRepository(session).create_starting(
                token,
                coordinator_id=coordinator_id,
                doctor_id=DOCTOR_ID,
                doctor_name="Иванова Мария Сергеевна",
                patient_name=PATIENT,
                patient_phone=PHONE,
                begin_at=begin_at,
                duration_min=duration_min,
            )
            await session.commit()
            local_id = row.id
        callback = await self.api.start_callback(
            DOCTOR_ID,
            Phone.from_e164(PHONE),
            PATIENT,
            begin_at=begin_at,
            duration_min=duration_min,
            notification_url=f"{self.hook_base}/hooks/callback/{token}",
        )
        async with self.session_factory() as session:
            repo = ConsultationRepository(session)
            await repo.bind_partner_id(local_id, callback.id)
            for entry in callback.statuses:
                if entry.status is not None and entry.created_at_utc is not None:
                    await StatusEventRepository(session).record(
                        local_id, entry.status.id.value, entry.created_at_utc, EventSource.START
                    )
            if card_message_id is not None:
                await repo.set_card(local_id, coordinator_id, card_message_id)
            await session.commit()
        return local_id, callback.id

    # -- reading the database ---------------------------------------------------------------

    async def outbox(self) -> list[OutboxMessage]:
        async with self.session_factory() as session:
            rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return list(rows)

    async def events(self, local_id: int) -> list[tuple[str, str]]:
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(StatusEvent)
                .where(StatusEvent.consultation_id == local_id)
                .order_by(StatusEvent.occurred_at, StatusEvent.id)
            )
            return [(e.status, e.source.value) for e in rows]

    async def consultation(self, local_id: int) -> Consultation:
        async with self.session_factory() as session:
            row = await session.get(Consultation, local_id)
            assert row is not None
            return row
