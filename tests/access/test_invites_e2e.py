"""Strangers, invites for both roles, the join sequence, used and expired links."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.db import utcnow
from storage.enums import Role
from storage.models import AuditEntry, Invite, User
from storage.repositories.invites import InviteRepository
from tests.access.conftest import Env, invite_code


async def get_user(env: Env, telegram_id: int) -> User | None:
    async with env.session_factory() as session:
        return await session.get(User, telegram_id)


async def test_stranger_is_turned_away_with_their_id(env: Env) -> None:
    stranger = env.user(555001)
    await stranger.send_command("start")
    text = stranger.last_bot_message().text
    assert "555001" in text
    assert "нет доступа" in text
    await stranger.send_text("привет")
    assert "555001" in stranger.last_bot_message().text
    await stranger.send_command("users")
    assert "555001" in stranger.last_bot_message().text
    assert await get_user(env, 555001) is None


async def test_coordinator_invite_then_city_then_greeting(env: Env) -> None:
    await env.admin.send_command("invite", "coordinator")
    answer = env.admin.last_bot_message().text
    assert "координатор" in answer
    assert "МСК" in answer  # the expiry carries the admin's zone
    code = invite_code(answer)
    async with env.session_factory() as session:
        stored = (await session.scalars(select(Invite))).one()
    assert stored.code_hash != code and len(stored.code_hash) == 64  # only the hash is kept

    newcomer = env.user(555002, first_name="Ольга")
    await newcomer.send_command("start", code)
    asked = newcomer.last_bot_message()
    assert "часовом поясе" in asked.text
    assert "Новосибирск" in newcomer.buttons()
    user = await get_user(env, 555002)
    assert user is not None and user.role == Role.COORDINATOR

    await newcomer.press("Новосибирск")
    texts = [m.text for m in newcomer.bot_messages()]
    assert any("Новосибирск (UTC+7)" in t for t in texts)
    greeting = newcomer.last_bot_message().text
    assert "Ольга" in greeting and "координатор" in greeting
    assert "/start_callback" in greeting
    user = await get_user(env, 555002)
    assert user is not None and user.timezone == "Asia/Novosibirsk"
    assert not env.tg.unanswered_queries()

    # The same link a second time, by somebody else: "already used".
    other = env.user(555003)
    await other.send_command("start", code)
    assert "уже использована" in other.last_bot_message().text
    assert await get_user(env, 555003) is None

    async with env.session_factory() as session:
        actions = [a.action for a in await session.scalars(select(AuditEntry))]
    assert "invite_created" in actions and "invite_accepted" in actions


async def test_doctor_invite_typed_offset_and_english(env: Env) -> None:
    await env.admin.send_command("invite", "doctor 101")
    code = invite_code(env.admin.last_bot_message().text)
    assert "101" in env.admin.last_bot_message().text

    doctor = env.user(555004, first_name="Mary", language_code="en")
    await doctor.send_command("start", code)
    assert "Which time zone" in doctor.last_bot_message().text
    await doctor.send_text("UTC+7")
    texts = [m.text for m in doctor.bot_messages()]
    assert any("Time zone: UTC+7" in t for t in texts)
    greeting = doctor.last_bot_message().text
    assert "You are a doctor (id 101)" in greeting
    assert "/list" in greeting and "/start_callback" not in greeting
    user = await get_user(env, 555004)
    assert user is not None
    assert (user.role, user.doctor_id, user.timezone) == (Role.DOCTOR, 101, "Etc/GMT-7")


async def test_invite_by_buttons_and_bad_zone_is_asked_again(env: Env) -> None:
    await env.admin.send_command("invite")
    await env.admin.press("Координатора")
    code = invite_code(env.admin.last_bot_message().text)
    user = env.user(555005)
    await user.send_command("start", code)
    await user.send_text("Атлантида")
    assert "Не узнаю" in user.last_bot_message().text
    await user.send_text("-05:00")
    assert "UTC-5" in user.bot_messages()[-2].text
    assert "координатор" in user.last_bot_message().text


async def test_expired_and_unknown_codes(env: Env) -> None:
    async with env.session_factory() as session:
        await InviteRepository(session).create(
            "expiredcode123",
            Role.COORDINATOR,
            created_by=1000,
            ttl=timedelta(hours=1),
            now=utcnow() - timedelta(hours=2),
        )
        await session.commit()
    user = env.user(555006)
    await user.send_command("start", "expiredcode123")
    assert "истёк" in user.last_bot_message().text
    await user.send_command("start", "nosuchcode12345")
    assert "недействительна" in user.last_bot_message().text
    assert await get_user(env, 555006) is None


async def test_member_opening_an_invite_does_not_burn_it(env: Env) -> None:
    await env.admin.send_command("invite", "coordinator")
    code = invite_code(env.admin.last_bot_message().text)
    await env.admin.send_command("start", code)
    assert "приглашение не использовано" in env.admin.bot_messages()[-2].text
    user = env.user(555007)
    await user.send_command("start", code)
    assert "часовом поясе" in user.last_bot_message().text


async def test_two_people_racing_for_one_link_only_one_joins(env: Env) -> None:
    await env.admin.send_command("invite", "coordinator")
    code = invite_code(env.admin.last_bot_message().text)
    first, second = env.user(555010), env.user(555011)
    await first.send_command("start", code, wait=False)
    await second.send_command("start", code, wait=False)
    await env.tg.wait_for_messages(first.id, 1)
    await env.tg.wait_for_messages(second.id, 1)
    joined = [await get_user(env, u) for u in (555010, 555011)]
    assert sum(u is not None for u in joined) == 1
    answers = [first.last_bot_message().text, second.last_bot_message().text]
    assert sum("уже использована" in a for a in answers) == 1
