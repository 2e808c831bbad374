"""bot/services/recipients.py: who may hear what, by the access policy over the roles."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.recipients import (
    alert_recipients,
    consultation_recipients,
    may_receive,
    receives_alerts,
    zone_of,
)
from storage.enums import NotifyMode, Role
from storage.repositories import ConsultationRepository, UserRepository

ADMINS = frozenset({1})
DOCTOR_ID = 101


@dataclass
class _User:
    telegram_id: int
    role: Role
    doctor_id: int | None = None
    is_active: bool = True


@dataclass
class _Consultation:
    coordinator_id: int | None = 10
    doctor_id: int | None = DOCTOR_ID


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (_User(10, Role.COORDINATOR), True),  # who started it
        (_User(11, Role.COORDINATOR), True),  # coordinators work on every consultation
        (_User(1, Role.ADMIN), True),  # in ADMIN_IDS
        (_User(1, Role.COORDINATOR), True),  # in ADMIN_IDS, whatever the stored role
        (_User(2, Role.ADMIN), False),  # stored admin, no longer in ADMIN_IDS
        (_User(20, Role.DOCTOR, DOCTOR_ID), True),  # linked to its doctor
        (_User(21, Role.DOCTOR, DOCTOR_ID + 1), False),  # another doctor's account
        (_User(22, Role.DOCTOR, None), False),  # a doctor account linked to nobody
        (_User(10, Role.COORDINATOR, is_active=False), False),  # blocked the bot
        (_User(20, Role.DOCTOR, DOCTOR_ID, is_active=False), False),
        (None, False),  # no stored row: never talked to the bot
    ],
)
def test_may_receive_over_the_roles(user: _User | None, expected: bool) -> None:
    assert may_receive(user, _Consultation(), ADMINS) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("telegram_id", "user", "expected"),
    [
        (1, _User(1, Role.ADMIN), True),
        (1, _User(1, Role.COORDINATOR), True),  # ADMIN_IDS makes the admin
        (1, None, True),  # listed, no row yet: ADMIN_IDS is the operator's word
        (1, _User(1, Role.ADMIN, is_active=False), False),
        (2, _User(2, Role.ADMIN), False),  # removed from ADMIN_IDS
        (10, _User(10, Role.COORDINATOR), False),
        (20, _User(20, Role.DOCTOR, DOCTOR_ID), False),
    ],
)
def test_receives_alerts_over_the_roles(
    telegram_id: int, user: _User | None, expected: bool
) -> None:
    assert receives_alerts(user, telegram_id, ADMINS) is expected  # type: ignore[arg-type]


def test_zone_of_falls_back_to_the_default() -> None:
    assert zone_of("Asia/Novosibirsk", "Europe/Moscow") == ZoneInfo("Asia/Novosibirsk")
    assert zone_of(None, "Europe/Moscow") == ZoneInfo("Europe/Moscow")
    assert zone_of("", "Europe/Moscow") == ZoneInfo("Europe/Moscow")
    assert zone_of("Mars/Olympus_Mons", "Europe/Moscow") == ZoneInfo("Europe/Moscow")


Factory = async_sessionmaker[AsyncSession]


async def _consultation(session: AsyncSession, coordinator_id: int | None) -> object:
    return await ConsultationRepository(session).create_starting(
        f"token-{coordinator_id}",
        coordinator_id=coordinator_id,
        doctor_id=DOCTOR_ID,
        patient_name="Петров Пётр",
        patient_phone="+79099708593",
    )


async def test_consultation_recipients_follow_current_roles(session_factory: Factory) -> None:
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(10, Role.COORDINATOR, display_name="Анна")
        await users.set_language(10, "en")
        await users.set_timezone(10, "Asia/Novosibirsk")
        await users.set_notify_mode(10, NotifyMode.ALL)
        await users.upsert(20, Role.DOCTOR, doctor_id=DOCTOR_ID)
        await users.upsert(21, Role.DOCTOR, doctor_id=DOCTOR_ID)
        await users.deactivate(21)
        await users.upsert(22, Role.DOCTOR, doctor_id=DOCTOR_ID + 1)
        consultation = await _consultation(session, 10)
        await session.commit()

        got = await consultation_recipients(
            session, consultation, admin_ids=ADMINS, default_timezone="Europe/Moscow"
        )
        assert got.coordinator is not None
        assert (got.coordinator.telegram_id, got.coordinator.lang) == (10, "en")
        assert got.coordinator.tz == ZoneInfo("Asia/Novosibirsk")
        assert got.coordinator.mode is NotifyMode.ALL
        assert [p.telegram_id for p in got.doctors] == [20]  # 21 blocked, 22 not linked
        assert got.doctors[0].tz == ZoneInfo("Europe/Moscow")

        # Demoted to another doctor's account: nobody in the coordinator's seat, but the
        # name of who started it stays for the team chat's line.
        await users.set_role(10, Role.DOCTOR, DOCTOR_ID + 1)
        await session.commit()
        got = await consultation_recipients(
            session, consultation, admin_ids=ADMINS, default_timezone="Europe/Moscow"
        )
        assert got.coordinator is None and got.coordinator_name == "Анна"
        assert [p.telegram_id for p in got.doctors] == [20]

        # Demoted to a doctor linked to this consultation: heard as a doctor.
        await users.set_role(10, Role.DOCTOR, DOCTOR_ID)
        await session.commit()
        got = await consultation_recipients(
            session, consultation, admin_ids=ADMINS, default_timezone="Europe/Moscow"
        )
        assert got.coordinator is None
        assert [p.telegram_id for p in got.doctors] == [10, 20]

        # Promoted back: in the coordinator's seat again.
        await users.set_role(10, Role.COORDINATOR)
        await session.commit()
        got = await consultation_recipients(
            session, consultation, admin_ids=ADMINS, default_timezone="Europe/Moscow"
        )
        assert got.coordinator is not None and got.coordinator.telegram_id == 10


async def test_admins_in_the_coordinators_seat(session_factory: Factory) -> None:
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(1, Role.ADMIN)
        await users.upsert(2, Role.ADMIN)  # an admin from an earlier ADMIN_IDS
        by_listed = await _consultation(session, 1)
        by_former = await _consultation(session, 2)
        by_nobody = await _consultation(session, None)  # started outside the bot
        await session.commit()
        for consultation, expected in ((by_listed, 1), (by_former, None), (by_nobody, None)):
            got = await consultation_recipients(
                session, consultation, admin_ids=ADMINS, default_timezone="Europe/Moscow"
            )
            seat = got.coordinator.telegram_id if got.coordinator is not None else None
            assert seat == expected


async def test_alert_recipients_are_listed_reachable_admins(session_factory: Factory) -> None:
    admin_ids = frozenset({1, 3, 4, 5})
    async with session_factory() as session:
        users = UserRepository(session)
        await users.upsert(1, Role.ADMIN)
        await users.set_language(1, "en")
        await users.upsert(2, Role.ADMIN)  # removed from ADMIN_IDS
        await users.upsert(3, Role.COORDINATOR)  # listed: an admin whatever the stored role
        await users.set_timezone(3, "Asia/Novosibirsk")
        await users.upsert(4, Role.ADMIN)
        await users.deactivate(4)  # blocked the bot
        # 5: listed, no row yet (messaged the bot before being listed): the defaults
        await session.commit()
        got = await alert_recipients(
            session, admin_ids=admin_ids, default_timezone="Europe/Moscow"
        )
    assert [(p.telegram_id, p.lang) for p in got] == [(1, "en"), (3, "ru"), (5, "ru")]
    assert got[1].tz == ZoneInfo("Asia/Novosibirsk")
    assert got[2].tz == ZoneInfo("Europe/Moscow")


def test_services_import_no_aiogram() -> None:
    """The use cases take sessions, the API client and a clock, never Telegram types."""
    code = (
        "import sys\n"
        "import bot.services.access, bot.services.alerts, bot.services.recipients\n"
        "import bot.services.status_changes\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiogram', 'aiogram_dialog')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
