"""/users (role change, revoke, command menus) and /doctors (add with and without the API's
doctor lookup, rename, remove, sync), through the fake Telegram and the sandbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.callback_data import DoctorsAction, DoctorsCb, UsersAction, UsersCb
from storage.enums import Role
from storage.models import AuditEntry, DirectoryDoctor, User
from tests.access.conftest import Env, join


async def get_user(env: Env, telegram_id: int) -> User | None:
    async with env.session_factory() as session:
        return await session.get(User, telegram_id)


async def directory(env: Env) -> dict[int, str]:
    async with env.session_factory() as session:
        rows = await session.scalars(select(DirectoryDoctor))
        return {d.doctor_id: d.display_name for d in rows}


async def audit_actions(env: Env) -> list[str]:
    async with env.session_factory() as session:
        return [a.action for a in await session.scalars(select(AuditEntry))]


def menu(env: Env, user_id: int) -> list[str]:
    return [name for name, _ in env.tg.commands(f"chat:{user_id}")]


async def test_users_role_change_and_revoke(env: Env) -> None:
    coordinator = await join(env, 2001, first_name="Ольга")
    doctor = await join(env, 2002, doctor_id=101, first_name="Мария")
    assert "start_callback" in menu(env, 2001)
    assert menu(env, 2002)[0] == "list" and "start_callback" not in menu(env, 2002)

    await env.admin.send_command("users")
    listing = env.admin.last_bot_message().text
    assert "Ольга" in listing and "координатор" in listing
    assert "Мария" in listing and "врач 101" in listing

    # Coordinator → doctor 103 (typed id).
    await env.admin.press("Ольга · координатор")  # the role in the admin's language
    assert "Telegram id: 2001" in env.admin.last_bot_message().text
    await env.admin.press("Сделать врачом…")
    assert "пришлите id врача" in env.admin.last_bot_message().text
    await env.admin.send_text("103")
    assert "Ольга: теперь врач" in env.admin.last_bot_message().text
    user = await get_user(env, 2001)
    assert user is not None and (user.role, user.doctor_id) == (Role.DOCTOR, 103)
    assert "start_callback" not in menu(env, 2001) and "list" in menu(env, 2001)

    # … and back to coordinator by button: the menu follows.
    await env.admin.press("Сделать координатором")
    user = await get_user(env, 2001)
    assert user is not None and (user.role, user.doctor_id) == (Role.COORDINATOR, None)
    assert "start_callback" in menu(env, 2001)
    await coordinator.send_command("help")
    assert "координатор" in coordinator.last_bot_message().text

    # Revoke the doctor: confirmation, then the row is gone and the menu reset.
    await env.admin.send_command("users")
    await env.admin.press("Мария · врач")
    await env.admin.press("Отозвать доступ")
    assert "Отозвать доступ у Мария?" in env.admin.last_bot_message().text
    await env.admin.press("Да, отозвать")
    assert "Доступ у Мария отозван" in env.admin.last_bot_message().text
    assert await get_user(env, 2002) is None
    assert menu(env, 2002) == []
    await doctor.send_command("list")
    assert "2002" in doctor.last_bot_message().text
    assert "нет доступа" in doctor.last_bot_message().text

    actions = await audit_actions(env)
    assert actions.count("user_role_changed") == 2 and "user_revoked" in actions
    assert not env.tg.unanswered_queries()


async def test_stale_and_foreign_buttons_get_an_alert(env: Env) -> None:
    coordinator = await join(env, 2003)
    await env.admin.send_command("users")
    gone = UsersCb(action=UsersAction.OPEN, user_id=999999).pack()
    query = await env.admin.press_data(gone)
    assert query.answered and query.show_alert and "больше нет" in (query.text or "")
    # The admin cannot revoke themself (ADMIN_IDS decides).
    self_revoke = UsersCb(action=UsersAction.REVOKE, user_id=env.admin.id).pack()
    query = await env.admin.press_data(self_revoke)
    assert query.show_alert
    # A coordinator forging an admin button is refused with an alert saying why (the access
    # policy's sentence, bot/rendering/access_denied.py), nothing changes.
    forged = UsersCb(action=UsersAction.REVOKE_OK, user_id=env.admin.id).pack()
    query = await coordinator.press_data(forged)
    assert query.show_alert
    assert query.text == "Роль «координатор» не позволяет управлять пользователями."
    query = await coordinator.press_data("atz:nowhere")
    assert query.show_alert
    assert await get_user(env, env.admin.id) is not None


async def test_doctors_with_api_lookup(env: Env) -> None:
    await env.admin.send_command("doctors")
    assert "пуст" in env.admin.last_bot_message().text
    await env.admin.press("➕ Добавить")
    await env.admin.send_text("abc")
    assert "положительное число" in env.admin.last_bot_message().text
    await env.admin.send_text("999")
    assert "нет врача с id 999" in env.admin.last_bot_message().text
    await env.admin.send_text("101")
    added = env.admin.last_bot_message().text
    assert "Добавлен: Иванова Мария Петровна (id 101)" in added
    assert await directory(env) == {101: "Иванова Мария Петровна"}

    # Rename (HTML in a typed name is escaped, not interpreted).
    await env.admin.press("101 · Иванова Мария Петровна")
    await env.admin.press("Переименовать")
    await env.admin.send_text("Др. <b>Иванова</b>")
    assert "Переименован" in env.admin.last_bot_message().text
    assert await directory(env) == {101: "Др. <b>Иванова</b>"}

    # Sync puts the API's name back.
    await env.admin.press("🔄 Обновить имена")
    assert "изменено 1, не найдено 0" in env.admin.last_bot_message().text
    assert await directory(env) == {101: "Иванова Мария Петровна"}

    # Remove, with a confirmation.
    await env.admin.press("101 · Иванова Мария Петровна")
    await env.admin.press("Удалить")
    await env.admin.press("Да, удалить")
    assert "удалён из справочника" in env.admin.last_bot_message().text
    assert await directory(env) == {}
    stale = DoctorsCb(action=DoctorsAction.RENAME, doctor_id=101).pack()
    query = await env.admin.press_data(stale)
    assert query.show_alert and "нет в справочнике" in (query.text or "")
    actions = await audit_actions(env)
    for action in ("doctor_added", "doctor_renamed", "doctors_synced", "doctor_removed"):
        assert action in actions


@pytest.mark.parametrize("doctor_routes", [False], ids=["no-doctor-routes"])
async def test_doctors_without_api_lookup(env: Env) -> None:
    await env.admin.send_command("doctors")
    await env.admin.press("➕ Добавить")
    await env.admin.send_text("150")
    assert "Пришлите имя врача 150" in env.admin.last_bot_message().text
    await env.admin.send_text("Петров Пётр Петрович")
    assert "Добавлен: Петров Пётр Петрович (id 150)" in env.admin.last_bot_message().text
    assert await directory(env) == {150: "Петров Пётр Петрович"}
    await env.admin.press("🔄 Обновить имена")
    assert "нет поиска врачей" in env.admin.last_bot_message().text
    assert await directory(env) == {150: "Петров Пётр Петрович"}

    # The directory feeds the invite screen: a doctor button by name.
    await env.admin.send_command("invite")
    await env.admin.press("Врача 150 · Петров Пётр Петрович")
    assert "Петров Пётр Петрович" in env.admin.last_bot_message().text
    assert "t.me/test_bot?start=" in env.admin.last_bot_message().text
