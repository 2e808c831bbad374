"""The push language: one rule (`language_of`), fed by the user middleware."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import I18n, language_of
from bot.middlewares.demo_mark import stored_language_lookup
from bot.services.alerts import alert_insufficient_funds
from bot.settings import Settings
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories import UserRepository
from tests.bot_fixtures import ADMIN_ID, BotHarness

SF = async_sessionmaker[AsyncSession]


@pytest.mark.parametrize(
    ("chosen", "telegram", "expected"),
    [
        ("en", "ru", "en"),  # /language wins
        ("ru", "en", "ru"),
        (None, "en", "en"),  # else the Telegram client's language
        (None, "de", "en"),
        (None, "uk", "ru"),
        (None, "pt-BR", "en"),
        (None, None, "ru"),  # nothing known: the clinic's Russian
        ("xx", None, "ru"),
    ],
)
def test_language_of(chosen: str | None, telegram: str | None, expected: str) -> None:
    assert language_of(SimpleNamespace(language=chosen, telegram_language=telegram)) == expected


def test_language_of_nobody_is_russian() -> None:
    assert language_of(None) == "ru"


async def test_middleware_records_telegram_language_once(
    running_bot: BotHarness, engine: AsyncEngine, session_factory: SF
) -> None:
    tg = running_bot.fake_tg
    async with session_factory() as session:
        await UserRepository(session).upsert(42, Role.COORDINATOR)
        await session.commit()
    updates: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE USERS"):
            updates.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    user = tg.user(42, language_code="en")
    for _ in range(3):
        await user.send_command("help")
    assert len(updates) == 1  # the first update wrote it; the same code again writes nothing
    tg.state.users[42].language_code = "ru"  # the user switched their Telegram to Russian
    await user.send_command("help")
    assert len(updates) == 2
    async with session_factory() as session:
        row = await UserRepository(session).get(42)
        assert row is not None and row.telegram_language == "ru" and row.language is None


async def test_admin_alert_and_demo_mark_follow_telegram_language(
    running_bot: BotHarness, session_factory: SF, settings: Settings, i18n: I18n
) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("help")  # ADMIN_IDS: the row is made and its language recorded
    async with session_factory() as session:
        await alert_insufficient_funds(session, settings, i18n=i18n)
        await session.commit()
        (row,) = list(await session.scalars(select(OutboxMessage)))
    assert "insufficient funds" in (row.text or "")
    lookup = stored_language_lookup(session_factory)
    assert await lookup(ADMIN_ID) == "en"
    assert await lookup(999) is None  # no stored user: the mark keeps both languages
