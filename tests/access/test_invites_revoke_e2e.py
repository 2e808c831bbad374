"""/invites (issue 12): the open invites with a Revoke button each, through the fake
Telegram. A revoked link answers like an unknown one; revoking twice is harmless; a
non-admin pressing a stale Revoke gets the policy's sentence and revokes nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.callback_data import InvitesAction, InvitesCb
from bot.commands import commands_for
from bot.i18n import I18n
from storage.enums import Role
from storage.models import AuditEntry, Invite
from tests.access.conftest import Env, invite_code, join


async def _open_invites(env: Env) -> list[Invite]:
    async with env.session_factory() as session:
        return list(await session.scalars(select(Invite).where(Invite.used_at.is_(None))))


async def test_admin_lists_and_revokes_an_invite(env: Env) -> None:
    await env.admin.send_command("invites")
    assert "Открытых приглашений нет" in env.admin.last_bot_message().text

    await env.admin.send_command("invite", "coordinator")
    coordinator_code = invite_code(env.admin.last_bot_message().text)
    await env.admin.send_command("invite", "doctor 101")
    doctor_code = invite_code(env.admin.last_bot_message().text)
    first, second = sorted(i.id for i in await _open_invites(env))

    await env.admin.send_command("invites")
    listing = env.admin.last_bot_message()
    assert "Открытые приглашения: 2 (страница 1 из 1)" in listing.text
    assert f"№{first}: координатор" in listing.text
    assert f"№{second}: врач 101" in listing.text
    assert "создал" in listing.text and "МСК" in listing.text  # creator, expiry in their zone
    for code in (coordinator_code, doctor_code):  # never the code, nor in the buttons
        assert code not in listing.text
        assert all(code not in (b.callback_data or "") for b in listing.buttons)
    assert {f"Отозвать №{first}", f"Отозвать №{second}"} <= set(env.admin.buttons())

    # Revoke asks first; Back leaves it open.
    await env.admin.press(f"Отозвать №{first}")
    assert "Ссылка перестанет работать" in env.admin.last_bot_message().text
    await env.admin.press("◀ Назад")
    assert len(await _open_invites(env)) == 2
    await env.admin.press(f"Отозвать №{first}")
    await env.admin.press("Да, отозвать")
    after = env.admin.last_bot_message().text
    assert f"Приглашение №{first} отозвано" in after
    assert f"№{first}:" not in after.split("\n", 1)[1] and f"№{second}: врач 101" in after
    assert [i.id for i in await _open_invites(env)] == [second]

    # The revoked link answers like one that never existed; nobody joins by it.
    newcomer = env.user(556001)
    await newcomer.send_command("start", coordinator_code)
    assert "недействительна" in newcomer.last_bot_message().text

    # The same Yes pressed again (a double tap, a second admin): harmless, says so.
    yes = InvitesCb(action=InvitesAction.REVOKE_OK, invite_id=first).pack()
    await env.admin.press_data(yes)
    assert f"Приглашения №{first} уже нет" in env.admin.last_bot_message().text
    assert [i.id for i in await _open_invites(env)] == [second]
    assert not env.tg.unanswered_queries()

    async with env.session_factory() as session:
        revoked = [
            a.target for a in await session.scalars(select(AuditEntry))
            if a.action == "invite_revoked"
        ]
    assert revoked == [f"invite:{first}"]

    # The doctor's invite still works.
    doctor = env.user(556002)
    await doctor.send_command("start", doctor_code)
    assert "часовом поясе" in doctor.last_bot_message().text


async def test_a_non_admin_pressing_a_stale_revoke_is_refused_by_the_policy(env: Env) -> None:
    coordinator = await join(env, 556010, first_name="Ольга")
    await env.admin.send_command("invite", "coordinator")
    code = invite_code(env.admin.last_bot_message().text)
    [invite] = await _open_invites(env)

    for action in (InvitesAction.REVOKE, InvitesAction.REVOKE_OK, InvitesAction.PAGE):
        data = InvitesCb(action=action, invite_id=invite.id).pack()
        query = await coordinator.press_data(data)
        assert query.answered and query.show_alert
        assert "не позволяет" in (query.text or "") and len(query.text or "") < 200
    await coordinator.send_command("invites")
    refusal = coordinator.last_bot_message()
    assert "не позволяет" in refusal.text and not refusal.buttons
    assert [i.id for i in await _open_invites(env)] == [invite.id]

    # A stranger with the same forged press: their id to pass to an admin.
    stranger = env.user(556011)
    await stranger.send_command("start")
    query = await stranger.press_data(
        InvitesCb(action=InvitesAction.REVOKE_OK, invite_id=invite.id).pack()
    )
    assert query.show_alert and "556011" in (query.text or "")
    assert [i.id for i in await _open_invites(env)] == [invite.id]

    newcomer = env.user(556012)
    await newcomer.send_command("start", code)
    assert "часовом поясе" in newcomer.last_bot_message().text


async def test_admin_menu_and_help_list_invites(env: Env) -> None:
    i18n = I18n()
    for lang, description in (("ru", "Открытые приглашения"), ("en", "Open invites")):
        menu = {c.command: c.description for c in commands_for(Role.ADMIN, lang, i18n)}
        assert menu["invites"] == description
    assert "invites" not in {c.command for c in commands_for(Role.COORDINATOR, "ru", i18n)}
    await env.admin.send_command("help")
    assert "/invites" in env.admin.last_bot_message().text
