"""A document, photo or sticker while the bot waits for a time zone: the zone question again
(with its city buttons), not the generic "I don't understand", and the state is kept."""

from __future__ import annotations

from storage.models import User
from tests.access.conftest import Env, invite_code


async def test_document_while_joining_asks_the_zone_again(env: Env) -> None:
    await env.admin.send_command("invite", "coordinator")
    code = invite_code(env.admin.last_bot_message().text or "")
    member = env.user(2101, first_name="Ольга")
    await member.send_command("start", code)
    assert "В каком вы часовом поясе?" in (member.last_bot_message().text or "")

    await member.send_document()
    again = member.last_bot_message()
    assert "В каком вы часовом поясе?" in (again.text or "")
    assert "Не понимаю" not in (again.text or "")
    assert "Москва" in again.button_texts

    await member.press("Новосибирск")  # still waiting for it
    assert "Вы координатор" in (member.last_bot_message().text or "")
    async with env.session_factory() as session:
        joined = await session.get(User, 2101)
    assert joined is not None and joined.timezone == "Asia/Novosibirsk"


async def test_photo_after_timezone_command_asks_the_zone_again(env: Env) -> None:
    await env.admin.send_command("timezone")
    await env.admin.send_photo()
    again = env.admin.last_bot_message()
    assert "Ваш часовой пояс: Москва (UTC+3)" in (again.text or "")
    assert "Владивосток" in again.button_texts
    await env.admin.send_text("UTC+5")
    assert "Часовой пояс: UTC+5" in (env.admin.last_bot_message().text or "")
