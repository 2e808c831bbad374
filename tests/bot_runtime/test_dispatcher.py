"""The production dispatcher against the fake Telegram and the sandbox."""

from __future__ import annotations

import logging

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.services.access import Action, Actor, authorize
from storage.enums import Role
from storage.repositories.users import UserRepository
from tests.bot_fixtures import ADMIN_ID, BotHarness

STRANGER_ID = 555000111
TEAM_CHAT = -100777


@pytest.fixture
def settings_env() -> dict[str, str]:
    return {"ADMIN_IDS": str(ADMIN_ID), "TEAM_CHAT_ID": str(TEAM_CHAT)}


def _boom_router() -> Router:
    router = Router(name="test.boom")

    @router.message(Command("boom"))
    async def boom(message: Message) -> None:
        raise RuntimeError("patient Иванов +79990001122")  # must never reach the log

    @router.message(Command("doctors_only"))
    async def doctors_only(message: Message, actor: Actor) -> None:
        authorize(actor, Action.CANT_TAKE)  # a doctor's action, asked as any service does
        await message.answer("secret doctor thing")

    return router


@pytest.fixture
def routers_for_test() -> list[Router]:
    return [_boom_router()]


async def test_stranger_is_turned_away_with_their_id(
    running_bot: BotHarness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    tg = running_bot.fake_tg
    stranger = tg.user(STRANGER_ID, language_code="en")
    await stranger.send_text("hello")
    reply = stranger.last_bot_message()
    assert reply.text is not None
    assert str(STRANGER_ID) in reply.text
    assert "no access" in reply.text
    await stranger.send_command("list")
    assert len(stranger.bot_messages()) == 2
    assert str(STRANGER_ID) in (stranger.last_bot_message().text or "")
    async with session_factory() as session:
        assert await UserRepository(session).get(STRANGER_ID) is None


async def test_stranger_in_russian(running_bot: BotHarness) -> None:
    stranger = running_bot.fake_tg.user(STRANGER_ID + 1, language_code="uk")
    await stranger.send_text("привет")
    text = stranger.last_bot_message().text or ""
    assert "нет доступа" in text and str(STRANGER_ID + 1) in text


async def test_admin_from_settings_is_created(
    running_bot: BotHarness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("help")
    assert "/invite" in (admin.last_bot_message().text or "")
    async with session_factory() as session:
        user = await UserRepository(session).get(ADMIN_ID)
    assert user is not None and user.role == Role.ADMIN


async def test_a_refusal_of_the_policy_is_one_sentence(
    running_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("doctors_only")
    text = admin.last_bot_message().text or ""
    first, _, _demo_mark = text.partition("\n")
    assert first == "Your role (administrator) does not allow you to decline consultations."
    assert [r for r in caplog.records if "access_denied" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_unexpected_exception_gets_an_apology_and_ids_only_in_log(
    running_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("boom")
    assert "Sorry, something went wrong" in (admin.last_bot_message().text or "")
    failures = [r.getMessage() for r in caplog.records if "update_failed" in r.getMessage()]
    assert failures and f"user_id={ADMIN_ID}" in failures[0]
    assert "RuntimeError" in failures[0]
    assert all("Иванов" not in r.getMessage() and "7999" not in r.getMessage()
               for r in caplog.records)


async def test_unknown_text_gets_help(running_bot: BotHarness) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="ru")
    await admin.send_text("что это")
    text = admin.last_bot_message().text or ""
    assert "Не понимаю" in text and "/users" in text


async def test_demo_mark_on_every_message(running_bot: BotHarness, i18n: I18n) -> None:
    tg = running_bot.fake_tg
    en_user = tg.user(STRANGER_ID + 2, language_code="en")
    await en_user.send_text("hi")
    assert (en_user.last_bot_message().text or "").endswith(i18n.translator("en")("demo-mark"))
    admin = tg.user(ADMIN_ID, language_code="ru")
    await admin.send_command("help")
    assert (admin.last_bot_message().text or "").endswith(i18n.translator("ru")("demo-mark"))


async def test_group_gets_pointer_and_team_chat_nothing(running_bot: BotHarness) -> None:
    tg = running_bot.fake_tg
    admin = tg.user(ADMIN_ID, language_code="en")
    group = tg.group(-4242, "Clinic")
    await group.send_command(admin, "list")
    pointer = group.last_bot_message().text or ""
    assert "privately" in pointer and "t.me/" in pointer
    await group.send_text(admin, "just chatting")
    assert len(group.bot_messages()) == 1
    team = tg.group(TEAM_CHAT, "Team")
    await team.send_command(admin, "help")
    await team.send_text(admin, "anyone?")
    assert team.bot_messages() == []


async def test_blocked_then_unblocked_user_tracked(
    running_bot: BotHarness, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    tg = running_bot.fake_tg
    admin = tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("help")

    async def member_update(status: str) -> None:
        chat = {"id": ADMIN_ID, "type": "private", "first_name": "A"}
        who = {"id": ADMIN_ID, "is_bot": False, "first_name": "A"}
        me = {"id": tg.bot_user.id, "is_bot": True, "first_name": "Bot"}
        payload = {
            "chat": chat,
            "from": who,
            "date": 0,
            "old_chat_member": {"status": "member", "user": me},
            "new_chat_member": {"status": status, "user": me, **(
                {"until_date": 0} if status == "kicked" else {})},
        }
        (update_id,) = await tg.enqueue(("my_chat_member", payload))
        await tg.wait_handled(update_id)

    async def active() -> bool:
        async with session_factory() as session:
            user = await UserRepository(session).get(ADMIN_ID)
            assert user is not None
            return user.is_active

    await member_update("kicked")
    assert await active() is False
    await member_update("member")
    assert await active() is True


async def test_stale_dialog_button_resets_with_explanation(running_bot: BotHarness) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("help")
    # A dialog button from before a restart/upgrade: its intent id is unknown now.
    query = await admin.press_data("deadbeef\x1dw_confirm")
    assert query.answered and query.show_alert
    assert "out of date" in (query.text or "")
    last = admin.last_bot_message().text or ""
    assert "start again" in last and "/invite" in last


async def test_stale_plain_button_gets_alert(running_bot: BotHarness) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("help")
    query = await admin.press_data("gone:1")
    assert query.answered and "out of date" in (query.text or "")
