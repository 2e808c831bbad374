"""/doctors while the partner API is down (503 on every doctor lookup): adding and syncing
answer one plain sentence, the directory is left as it was, and nothing is left hanging."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import DirectoryDoctor
from tests.access.conftest import Env

DOWN = "Сервис консультаций сейчас недоступен, попробуйте через минуту."


async def directory(env: Env) -> dict[int, str]:
    async with env.session_factory() as session:
        return {d.doctor_id: d.display_name for d in await session.scalars(select(DirectoryDoctor))}


def assert_plain_sentence(text: str) -> None:
    assert DOWN in text, text
    for leak in ("Traceback", "503", "ApiUnavailable", "doctor_get", "http"):
        assert leak not in text, text


async def test_doctor_add_and_sync_with_the_partner_api_down(env: Env) -> None:
    await env.admin.send_command("doctors")
    await env.admin.press("➕ Добавить")
    await env.admin.send_text("101")  # while the API is up
    assert await directory(env) == {101: "Иванова Мария Петровна"}

    env.sandbox.sandbox.inject_fault("doctor_get", "503", count=100)

    await env.admin.send_command("doctors")
    await env.admin.press("➕ Добавить")
    await env.admin.send_text("102")
    assert_plain_sentence(env.admin.last_bot_message().text or "")
    assert await directory(env) == {101: "Иванова Мария Петровна"}

    await env.admin.send_command("doctors")
    await env.admin.press("🔄 Обновить имена")
    assert_plain_sentence(env.admin.last_bot_message().text or "")
    assert await directory(env) == {101: "Иванова Мария Петровна"}
    assert not env.tg.unanswered_queries()
    assert env.sandbox.sandbox.requests_for("doctor_get")  # the API was really asked
