"""The team group's migration to a supergroup is stored and survives a restart."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage
from storage.repositories import AppStateRepository, chat_migrated_key
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, Harness

OLD_TEAM = -500
NEW_TEAM = -100500


def _sends_to(tg: FakeTelegram, chat_id: int) -> int:
    return sum(1 for c in tg.calls("sendMessage") if str(c.params.get("chat_id")) == str(chat_id))


async def _team_line(rt: object, tg: FakeTelegram, chat_id: int, count: int) -> None:
    """Start a consultation as the wizard does and move it on: the team chat gets a line."""
    harness = Harness(
        session_factory=rt.session_factory,  # type: ignore[attr-defined]
        sandbox_server=rt.sandbox,  # type: ignore[attr-defined]
        api=rt.api,  # type: ignore[attr-defined]
        i18n=rt.i18n,  # type: ignore[attr-defined]
    )
    harness.hook_base = f"http://127.0.0.1:{rt.http_port}"  # type: ignore[attr-defined]
    await harness.add_users()
    _, partner_id = await harness.start()
    await harness.sandbox.set_status(partner_id, "Processing")
    await tg.wait_for_messages(chat_id, count)


async def test_migrated_team_chat_survives_a_restart(fake_tg: FakeTelegram, db_url: str) -> None:
    # SANDBOX_PACE_SECONDS=0: statuses move only when the test says so.
    settings = app_settings(
        fake_tg, db_url, TEAM_CHAT_ID=str(OLD_TEAM), SANDBOX_PACE_SECONDS="0"
    )
    fake_tg.user(COORDINATOR)
    fake_tg.user(DOCTOR_ACCOUNT)
    old = fake_tg.group(OLD_TEAM, "Team")
    new = old.migrate_to_supergroup(NEW_TEAM)

    async with run_app(settings) as rt:
        await _team_line(rt, fake_tg, NEW_TEAM, 2)  # Registered, Processing: followed
        assert _sends_to(fake_tg, OLD_TEAM) >= 1  # it learnt the move from Telegram
        async with rt.session_factory() as session:  # type: ignore[misc]
            stored = await AppStateRepository(session).get(chat_migrated_key(OLD_TEAM))
        assert stored == str(NEW_TEAM)
    lines_before = len(new.bot_messages())
    old_sends = _sends_to(fake_tg, OLD_TEAM)

    # A restart with the same environment (TEAM_CHAT_ID still the old id), same database.
    async with run_app(settings) as rt:
        assert rt.settings.team_chat_id == NEW_TEAM
        await _team_line(rt, fake_tg, NEW_TEAM, lines_before + 2)
        await rt.require("outbox").drain(10)
        async with rt.session_factory() as session:  # type: ignore[misc]
            rows = list(await session.scalars(select(OutboxMessage)))
    assert _sends_to(fake_tg, OLD_TEAM) == old_sends  # never tried the old id again
    team_rows = [r for r in rows if r.chat_id in (OLD_TEAM, NEW_TEAM)]
    assert team_rows and all(r.chat_id == NEW_TEAM and r.sent_at for r in team_rows)
