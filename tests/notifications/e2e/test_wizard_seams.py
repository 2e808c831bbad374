"""Where the wizard and the card meet the notifications: the doctor's "booked" goes out right
after Confirm (no reconcile run needed), and a terminate from the card tells the doctor
exactly once even when the sandbox's notification GET follows.

Unlike the `live` fixture, the dispatcher here carries the notifications' parts in its
data (``data["notifications"]``), as bot/app/runtime.py wires them in production, and PUBLIC_URL
points at the listener, so the wizard's own notification URL reaches the receiver.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Dispatcher
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from api_client.sandbox import SandboxServer
from bot.app.dispatcher import create_dispatcher
from bot.app.runtime import Runtime
from bot.http_server import HealthState, build_http_app
from bot.i18n import I18n
from bot.notifications.runtime import Notifications, build
from bot.outbox import OutboxSender
from bot.settings import Settings
from storage.models import Consultation, OutboxMessage
from tests.bot_fixtures import BotHarness
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, TEAM_CHAT, Harness

DOCTOR_101 = "Иванова Мария Петровна · Терапевт"
NOW_ONLY = "⚡ Сейчас → к подтверждению"
CONFIRM = "✅ Подтвердить"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hook_port() -> int:
    return _free_port()


@pytest.fixture
def settings_env(hook_port: int) -> dict[str, str]:
    return {
        "ADMIN_IDS": "1",
        "TEAM_CHAT_ID": str(TEAM_CHAT),
        "PUBLIC_URL": f"http://127.0.0.1:{hook_port}",
    }


@pytest.fixture
def health(settings: Settings) -> HealthState:
    return HealthState(is_sandbox=settings.is_sandbox)


@pytest.fixture
async def parts(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    api: PartnerApiClient,
    outbox: OutboxSender,
    i18n: I18n,
    health: HealthState,
) -> AsyncIterator[Notifications]:
    async with AsyncExitStack() as stack:
        rt = Runtime(
            settings=settings,
            stack=stack,
            i18n=i18n,
            session_factory=session_factory,
            api=api,
            outbox=outbox,
            health=health,
        )
        yield build(rt)


@pytest.fixture
def dispatcher(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    outbox: OutboxSender,
    parts: Notifications,
    health: HealthState,
) -> Dispatcher:
    return create_dispatcher(
        settings=settings,
        api=api,
        session_factory=session_factory,
        i18n=i18n,
        outbox_wakeup=outbox.wake,
        health=health,
        outbox=outbox,
        notifications=parts,  # as run_bot's build_dispatcher step passes it
    )


@dataclass
class World:
    tg: FakeTelegram
    harness: Harness
    parts: Notifications
    running: BotHarness
    health: HealthState
    coordinator: FakeUser

    @property
    def sandbox(self) -> Any:
        return self.harness.sandbox

    def texts(self, chat_id: int) -> list[str]:
        return [m.content for m in self.tg.bot_messages(chat_id)]

    async def consultation(self) -> Consultation:
        async with self.harness.session_factory() as session:
            (row,) = list(await session.scalars(select(Consultation)))
            return row

    async def outbox_rows(self, chat_id: int) -> list[OutboxMessage]:
        async with self.harness.session_factory() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
            )
            return list(rows)


@pytest.fixture
async def world(
    running_bot: BotHarness,
    fake_tg: FakeTelegram,
    session_factory: async_sessionmaker[AsyncSession],
    sandbox: SandboxServer,
    api: PartnerApiClient,
    i18n: I18n,
    parts: Notifications,
    health: HealthState,
    hook_port: int,
) -> AsyncIterator[World]:
    fake_tg.user(DOCTOR_ACCOUNT, first_name="Doc", language_code="en")
    fake_tg.group(TEAM_CHAT)
    coordinator = fake_tg.user(COORDINATOR, first_name="Анна", language_code="ru")
    app = build_http_app(
        session_factory=session_factory, health=health, extra_routes=[parts.receiver.setup]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", hook_port).start()
        harness = Harness(
            session_factory=session_factory, sandbox_server=sandbox, api=api, i18n=i18n
        )
        await harness.add_users()
        async with parts.worker:
            yield World(fake_tg, harness, parts, running_bot, health, coordinator)
    finally:
        await runner.cleanup()


async def _confirm_in_wizard(world: World) -> None:
    user = world.coordinator
    await user.send_command("start_callback")
    await user.press(DOCTOR_101)
    await user.send_text("+7 909 970-85-93")
    await user.send_text("Петров Пётр Петрович")
    await user.press(NOW_ONLY)
    await user.press(CONFIRM)


async def test_booked_message_goes_out_right_after_confirm(world: World) -> None:
    await _confirm_in_wizard(world)
    # The worker polls every 30 s and reconcile never runs here: only the wizard's wake-up
    # can deliver this within the timeout.
    (booked,) = await world.tg.wait_for_messages(DOCTOR_ACCOUNT, 1, timeout=5)
    assert "booked with you" in booked.content
    assert world.health.last_reconcile_at is None
    await world.running.outbox.drain(10)
    assert len(world.texts(DOCTOR_ACCOUNT)) == 1
    row = await world.consultation()
    assert row.needs_refresh is False and row.card_message_id is not None
    # The card in the coordinator's chat is the one renderer's card (history included).
    card = world.coordinator.message(row.card_message_id)
    assert "История:" in card.content and "⛔ Прервать" in world.coordinator.buttons(card)


async def test_terminate_from_the_card_tells_the_doctor_once(world: World) -> None:
    await _confirm_in_wizard(world)
    await world.tg.wait_for_messages(DOCTOR_ACCOUNT, 1, timeout=5)
    row = await world.consultation()
    assert row.partner_id is not None and row.card_message_id is not None
    user = world.coordinator
    await user.press("⛔ Прервать", row.card_message_id)
    await user.press("✅ Да", row.card_message_id)
    assert world.sandbox.get_record(row.partner_id).status == "Unsuccessful"

    # The sandbox fires its notification GET after answering terminate: wait until the
    # receiver has served it, then let the worker look and the outbox deliver.
    async with asyncio.timeout(5):
        await world.sandbox.wait_for_notification(
            lambda n: (
                n.callback_id == row.partner_id
                and n.status == "Unsuccessful"
                and n.http_status is not None
            )
        )
    await world.parts.worker.run_once()
    await world.running.outbox.drain(10)

    doctor = world.texts(DOCTOR_ACCOUNT)
    assert len(doctor) == 2, doctor  # booked, then terminated — once
    assert "terminated" in doctor[1]
    keys = sorted(m.dedupe_key or "" for m in await world.outbox_rows(DOCTOR_ACCOUNT))
    assert keys == [
        f"cons:{row.id}:status:Registered:to:{DOCTOR_ACCOUNT}",
        f"cons:{row.id}:status:Unsuccessful:to:{DOCTOR_ACCOUNT}",
    ]
    # The coordinator's card, edited in place, shows the end.
    card = user.message(row.card_message_id)
    assert "Не состоялась" in card.content
    assert "⛔ Прервать" not in user.buttons(card) and "🔁 Повторить" in user.buttons(card)
