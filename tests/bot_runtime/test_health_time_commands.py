"""/health, format_local and the command menus."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands import apply_user_commands, reset_user_commands, set_default_commands
from bot.http_server import HealthState, build_http_app
from bot.i18n import I18n
from bot.rendering.time import format_local
from storage.db import create_engine, create_session_factory
from storage.repositories.outbox import OutboxRepository
from tests.fake_telegram import FakeTelegram


async def test_health_reports_db_backlog_partner_and_reconcile(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        await OutboxRepository(session).enqueue(5, "x")
        await session.commit()
    calls = 0

    async def probe() -> None:
        nonlocal calls
        calls += 1

    health = HealthState(is_sandbox=True)
    health.reconciled(datetime.now(UTC))
    app = build_http_app(session_factory=session_factory, health=health, partner_check=probe)
    async with TestClient(TestServer(app)) as client:
        for _ in range(2):
            response = await client.get("/health")
            assert response.status == 200
            body = await response.json()
        assert body["database"] == "ok" and body["partner_api"] == "ok"
        assert body["sandbox"] is True and body["outbox_backlog"] == 1
        assert body["seconds_since_reconcile"] is not None
    assert calls == 1  # cached for 30 s


async def test_health_503_when_database_is_down(tmp_path: object) -> None:
    engine = create_engine("sqlite+aiosqlite:////nonexistent-dir/for/sure/x.db?mode=ro&uri=true")
    sf = create_session_factory(engine)

    async def failing() -> None:
        raise ConnectionError

    app = build_http_app(session_factory=sf, health=HealthState(), partner_check=failing)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/health")
        body = await response.json()
    await engine.dispose()
    assert response.status == 503
    assert body["database"] == "error" and body["partner_api"] == "unreachable"


def test_format_local_always_carries_the_zone() -> None:
    moment = datetime(2025, 11, 28, 12, 30, tzinfo=UTC)
    msk, nsk = ZoneInfo("Europe/Moscow"), ZoneInfo("Asia/Novosibirsk")
    assert format_local(moment, msk, "ru", now=moment) == "15:30 МСК"
    assert format_local(moment, msk, "en", now=moment) == "15:30 MSK"
    assert format_local(moment, nsk, "ru", now=datetime(2025, 11, 27, tzinfo=UTC)) == (
        "28.11 19:30 UTC+7"
    )
    assert format_local(moment, ZoneInfo("Asia/Kolkata"), "en", now=moment) == "18:00 UTC+5:30"
    assert format_local(moment, UTC, "en", now=moment, with_date=True) == "28.11 12:30 UTC"
    assert format_local(moment, msk, "ru", now=datetime(2024, 1, 1, tzinfo=UTC)) == (
        "28.11.2025 15:30 МСК"
    )


async def test_command_menus_by_role_and_language(
    fake_tg: FakeTelegram, bot: Bot, i18n: I18n
) -> None:
    await set_default_commands(bot, i18n)
    ru = fake_tg.commands(BotCommandScopeAllPrivateChats(), "ru")
    en = fake_tg.commands(BotCommandScopeAllPrivateChats(), "")
    assert [c for c, _ in ru] == ["start", "help"] and ru[1][1] == "Помощь"
    assert en[1][1] == "Help"
    fake_tg.user(77)
    await apply_user_commands(bot, i18n, telegram_id=77, role="coordinator", lang="en")
    mine = fake_tg.commands(BotCommandScopeChat(chat_id=77))
    assert "start_callback" in [c for c, _ in mine] and "users" not in [c for c, _ in mine]
    await reset_user_commands(bot, 77)
    assert fake_tg.commands(BotCommandScopeChat(chat_id=77)) == []
