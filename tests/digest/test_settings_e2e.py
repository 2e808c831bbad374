"""/settings → the morning digest, through the fake Bot API: the role's default shown, a
preset time, a typed time (and a bad one), Off — and what the job then does with each.

The clock is 1 June 2026 in Moscow (tests/digest/conftest.py), shared by the dispatcher,
the job and the outbox."""

from __future__ import annotations

from datetime import date

from storage.enums import Role
from storage.models import User
from tests.digest.conftest import World, msk

COORDINATOR = 7001
DOCTOR = 7002
DAY = date(2026, 6, 1)


async def _stored(world: World, telegram_id: int) -> tuple[str | None, date | None]:
    async with world.session_factory() as session:
        user = await session.get(User, telegram_id)
    assert user is not None
    return user.digest_time, user.digest_last_date


async def test_coordinator_default_then_a_preset_already_gone_by_starts_tomorrow(
    world: World,
) -> None:
    member = await world.person(COORDINATOR, Role.COORDINATOR)
    async with world.running() as app:
        world.at(msk(world.clock(), 8, 30))
        await member.send_command("settings")
        text = member.last_bot_message().text or ""
        assert "Уведомления: главное" in text
        assert "Утренняя сводка: в 09:00 МСК (по умолчанию для вашей роли), следующая сегодня." in (
            text
        )
        assert member.keyboard()[-2:] == [
            ["07:00", "08:00", "✓ 09:00", "10:00"],
            ["Выключить", "Другое время…"],
        ]

        query = await member.press("08:00")  # 08:00 has gone by at 08:30
        assert query.text == "Утренняя сводка: 08:00."
        text = member.last_bot_message().text or ""
        assert "Утренняя сводка: в 08:00 МСК, следующая завтра." in text
        assert "✓ 08:00" in member.buttons()
        assert await _stored(world, COORDINATOR) == ("08:00", DAY)

        assert (await app.tick(msk(world.clock(), 9, 0))).queued == 0  # not today any more
        assert world.digests(COORDINATOR) == []
        await app.tick(msk(world.clock(), 24 + 8, 0))  # 08:00 the next day
        assert len(world.digests(COORDINATOR)) == 1


async def test_typed_time_bad_then_good(world: World) -> None:
    member = await world.person(COORDINATOR, Role.COORDINATOR)
    async with world.running() as app:
        world.at(msk(world.clock(), 6, 0))
        await member.send_command("settings")
        settings_message = member.last_bot_message()
        await member.press("Другое время…")
        assert (member.last_bot_message().text or "").startswith(
            "Напишите время утренней сводки в виде ЧЧ:ММ"
        )
        assert member.last_bot_message() is not settings_message  # the settings stay

        await member.send_text("25:61")
        assert (member.last_bot_message().text or "").startswith("Не понял время.")
        await member.send_text("половина восьмого")
        assert (member.last_bot_message().text or "").startswith("Не понял время.")
        assert await _stored(world, COORDINATOR) == (None, None)

        await member.send_text("7:45")
        text = member.last_bot_message().text or ""
        assert "Утренняя сводка: в 07:45 МСК, следующая сегодня." in text
        assert "✓ 07:45 · другое…" in member.buttons()
        assert await _stored(world, COORDINATOR) == ("07:45", None)

        # The prompt is over: a time typed now is just text, not a new choice.
        await member.send_text("10:00")
        assert await _stored(world, COORDINATOR) == ("07:45", None)

        assert (await app.tick(msk(world.clock(), 7, 44))).queued == 0
        assert (await app.tick(msk(world.clock(), 7, 45))).queued == 1
        assert len(world.digests(COORDINATOR)) == 1


async def test_cancel_leaves_the_time_as_it_was(world: World) -> None:
    member = await world.person(COORDINATOR, Role.COORDINATOR, lang="en")
    async with world.running():
        await member.send_command("settings")
        await member.press("Other time…")
        await member.send_command("cancel")
        assert (member.last_bot_message().text or "").startswith("Cancelled.")
        await member.send_text("08:15")
        assert await _stored(world, COORDINATOR) == (None, None)


async def test_turned_off_gets_nothing(world: World) -> None:
    member = await world.person(COORDINATOR, Role.COORDINATOR)
    async with world.running() as app:
        world.at(msk(world.clock(), 7, 0))
        await member.send_command("settings")
        query = await member.press("Выключить")
        assert query.text == "Утренняя сводка выключена."
        text = member.last_bot_message().text or ""
        assert "Утренняя сводка: выключена." in text
        assert "✓ Выключить" in member.buttons()
        assert await _stored(world, COORDINATOR) == ("off", None)

        for hour in (9, 10, 12):
            assert (await app.tick(msk(world.clock(), hour))).due == 0
        assert world.digests(COORDINATOR) == []


async def test_doctor_off_by_default_opts_in(world: World) -> None:
    doctor = await world.person(DOCTOR, Role.DOCTOR, doctor_id=101, lang="en")
    async with world.running() as app:
        world.at(msk(world.clock(), 6, 0))
        assert (await app.tick(msk(world.clock(), 9, 0))).due == 0  # off by default

        await doctor.send_command("settings")
        text = doctor.last_bot_message().text or ""
        assert "Morning digest: off." in text
        assert "✓ Off" in doctor.buttons()
        await doctor.press("10:00")
        assert "Morning digest: at 10:00 MSK, next today." in (doctor.last_bot_message().text or "")

        assert (await app.tick(msk(world.clock(), 10, 0))).queued == 1
        (digest,) = world.digests(DOCTOR)
        assert digest.startswith("☀️ <b>Your digest for Monday, June 1, 2026</b>")


async def test_forged_time_button_is_refused(world: World) -> None:
    member = await world.person(COORDINATOR, Role.COORDINATOR)
    async with world.running():
        await member.send_command("settings")
        query = await member.press_data("adg:0915")  # no such preset: type it instead
        assert (query.text, query.show_alert) == ("Эта кнопка устарела.", True)
        assert await _stored(world, COORDINATOR) == (None, None)
