"""Language (Telegram's, then /language), /timezone (times follow the zone), /settings,
and groups (a pointer to the private chat, no data)."""

from __future__ import annotations

from storage.enums import NotifyMode
from storage.models import User
from tests.access.conftest import Env, invite_code, join


async def get_user(env: Env, telegram_id: int) -> User:
    async with env.session_factory() as session:
        user = await session.get(User, telegram_id)
    assert user is not None
    return user


async def test_english_user_then_language_switch(env: Env) -> None:
    member = await join(env, 3001, first_name="John", language_code="en")
    assert "You are a coordinator" in member.last_bot_message().text
    menu = dict(env.tg.commands("chat:3001"))
    assert menu["list"] == "Consultations"

    await member.send_command("language")
    assert "Choose the language" in member.last_bot_message().text
    await member.press("Русский")
    assert "Язык: русский." in member.last_bot_message().text
    assert (await get_user(env, 3001)).language == "ru"
    assert dict(env.tg.commands("chat:3001"))["list"] == "Консультации"
    await member.send_command("help")
    assert "Что я умею" in member.last_bot_message().text
    await member.send_command("language")
    await member.press("English")
    await member.send_command("settings")
    assert "Notifications" in member.last_bot_message().text


async def test_stranger_language_follows_telegram(env: Env) -> None:
    stranger = env.user(3002, language_code="en")
    await stranger.send_command("start")
    assert "You have no access" in stranger.last_bot_message().text
    assert "3002" in stranger.last_bot_message().text
    kazakh = env.user(3003, language_code="kk")
    await kazakh.send_command("start")
    assert "нет доступа" in kazakh.last_bot_message().text


async def test_timezone_change_moves_the_times_shown(env: Env) -> None:
    await env.admin.send_command("invite", "coordinator")
    assert "МСК" in env.admin.last_bot_message().text

    await env.admin.send_command("timezone")
    assert "Ваш часовой пояс: Москва (UTC+3)" in env.admin.last_bot_message().text
    await env.admin.press("Владивосток")
    assert "Часовой пояс: Владивосток (UTC+10)" in env.admin.last_bot_message().text
    assert (await get_user(env, env.admin.id)).timezone == "Asia/Vladivostok"
    await env.admin.send_command("invite", "coordinator")
    assert "UTC+10" in env.admin.last_bot_message().text

    await env.admin.send_command("timezone")
    await env.admin.send_text("UTC-3")
    assert "Часовой пояс: UTC-3" in env.admin.last_bot_message().text
    await env.admin.send_command("invite", "coordinator")
    assert "UTC-3" in env.admin.last_bot_message().text
    assert (await get_user(env, env.admin.id)).timezone == "Etc/GMT+3"

    # Outside /timezone a typed zone is just unknown text, not a zone change.
    await env.admin.send_text("UTC+5")
    assert (await get_user(env, env.admin.id)).timezone == "Etc/GMT+3"


async def test_settings_notification_mode(env: Env) -> None:
    member = await join(env, 3004, doctor_id=102)
    await member.send_command("settings")
    assert "главное" in member.last_bot_message().text
    assert "✓ Главное" in member.buttons()
    await member.press("Все изменения")
    assert "все изменения" in member.last_bot_message().text
    assert "✓ Все изменения" in member.buttons()
    assert (await get_user(env, 3004)).notify_mode == NotifyMode.ALL
    await member.press("Без звука")
    assert (await get_user(env, 3004)).notify_mode == NotifyMode.MUTED


async def test_group_gets_a_pointer_and_no_data(env: Env) -> None:
    await join(env, 3005, first_name="Ольга")
    group = env.tg.group(-100777, title="Clinic")
    for command in ("users", "start", "doctors", "help"):
        await group.send_command(env.admin, command)
    texts = [m.text for m in group.bot_messages()]
    assert texts and all("t.me/test_bot" in t for t in texts)
    assert not any("Ольга" in t or "3005" in t for t in texts)


async def test_another_command_ends_a_pending_zone_prompt(env: Env) -> None:
    await env.admin.send_command("timezone")
    await env.admin.send_command("help")
    await env.admin.send_text("UTC+5")
    assert (await get_user(env, env.admin.id)).timezone is None
    assert "Не понимаю" in env.admin.last_bot_message().text

    await env.admin.send_command("timezone")
    await env.admin.send_command("cancel")
    assert "Отменено" in env.admin.last_bot_message().text
    await env.admin.send_text("UTC+5")
    assert (await get_user(env, env.admin.id)).timezone is None


async def test_cancelling_the_join_zone_still_greets(env: Env) -> None:
    await env.admin.send_command("invite", "coordinator")
    member = env.user(3006, first_name="Пётр")
    await member.send_command("start", invite_code(env.admin.last_bot_message().text))
    await member.send_command("start")  # still joining: asked again, not skipped
    assert "часовом поясе" in member.last_bot_message().text
    await member.send_command("cancel")
    assert "Пётр" in member.last_bot_message().text
    assert "координатор" in member.last_bot_message().text
