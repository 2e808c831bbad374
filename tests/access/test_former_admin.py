"""Admins are the ids in ADMIN_IDS: an id taken out of it loses admin rights at once, even
though its stored row still says role=admin, and admin alerts go to ADMIN_IDS only."""

from __future__ import annotations

from sqlalchemy import select

from bot.services.alerts import AlertKind, alert_admins
from storage.enums import Role
from storage.models import OutboxMessage, User
from storage.repositories.users import UserRepository
from tests.access.conftest import Env
from tests.bot_fixtures import ADMIN_ID, app_settings, run_app
from tests.fake_telegram import FakeTelegram

FORMER_ADMIN = 3001


async def _store_admin(env: Env, telegram_id: int) -> None:
    async with env.session_factory() as session:
        await UserRepository(session).upsert(telegram_id, Role.ADMIN, display_name="Бывший")
        await session.commit()


async def test_users_refused_to_a_former_admin(env: Env) -> None:
    assert FORMER_ADMIN not in env.settings.admin_ids
    await _store_admin(env, FORMER_ADMIN)  # an admin from when ADMIN_IDS still listed them
    former = env.user(FORMER_ADMIN, first_name="Бывший")

    await former.send_command("users")
    reply = former.last_bot_message().text or ""
    assert "нет доступа" in reply and str(FORMER_ADMIN) in reply
    assert "Админ" not in reply and "Бывший ·" not in reply  # no listing, no buttons
    assert not former.last_bot_message().buttons

    await former.send_command("doctors")
    assert "нет доступа" in (former.last_bot_message().text or "")

    # The listed admin still has the rights.
    await env.admin.send_command("users")
    assert "нет доступа" not in (env.admin.last_bot_message().text or "")


async def test_alerts_reach_only_admin_ids(env: Env) -> None:
    await _store_admin(env, FORMER_ADMIN)
    async with env.session_factory() as session:
        queued = await alert_admins(
            session, env.settings, AlertKind.INSUFFICIENT_FUNDS, "funds-1"
        )
        await session.commit()
        chats = sorted(await session.scalars(select(OutboxMessage.chat_id)))
        former = await session.get(User, FORMER_ADMIN)
    assert chats == sorted(env.settings.admin_ids) == [ADMIN_ID]
    assert queued == 1
    assert former is not None  # nothing deleted: putting the id back restores the rights


async def test_start_up_takes_the_admin_menu_from_a_former_admin(
    fake_tg: FakeTelegram, db_url: str
) -> None:
    async with run_app(app_settings(fake_tg, db_url, admin_ids=f"{ADMIN_ID},{FORMER_ADMIN}")):
        await fake_tg.user(FORMER_ADMIN, language_code="ru").send_command("help")
    assert "users" in [name for name, _ in fake_tg.commands(f"chat:{FORMER_ADMIN}")]

    async with run_app(app_settings(fake_tg, db_url)):  # ADMIN_IDS no longer lists them
        pass
    assert fake_tg.commands(f"chat:{FORMER_ADMIN}") == []
    assert "users" in [name for name, _ in fake_tg.commands(f"chat:{ADMIN_ID}")]
