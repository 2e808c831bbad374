from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import NotifyMode, Role
from storage.hashing import hash_secret
from storage.models import Invite
from storage.repositories import (
    ConsumeStatus,
    DoctorDirectoryRepository,
    InviteRepository,
    UserRepository,
)

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def test_user_upsert_and_setters(session: AsyncSession) -> None:
    users = UserRepository(session)
    u = await users.upsert(10, Role.COORDINATOR, display_name="Anna")
    assert (u.role, u.is_active, u.notify_mode, u.language, u.timezone) == (
        Role.COORDINATOR,
        True,
        NotifyMode.ESSENTIALS,
        None,
        None,
    )
    # Upsert again: role changes, still one row.
    u = await users.upsert(10, Role.DOCTOR, display_name="Anna D.", doctor_id=101)
    assert (u.role, u.doctor_id, u.display_name) == (Role.DOCTOR, 101, "Anna D.")
    assert await session.scalar(select(func.count()).select_from(type(u))) == 1

    assert await users.set_language(10, "en")
    assert await users.set_timezone(10, "Asia/Novosibirsk")
    assert await users.set_notify_mode(10, NotifyMode.MUTED)
    assert await users.set_display_name(10, "Dr Anna")
    assert await users.deactivate(10)
    u2 = await users.get(10)
    assert u2 is not None
    assert (u2.language, u2.timezone, u2.notify_mode, u2.is_active, u2.display_name) == (
        "en",
        "Asia/Novosibirsk",
        NotifyMode.MUTED,
        False,
        "Dr Anna",
    )
    assert await users.activate(10)
    assert await users.set_language(10, None)
    assert (await users.get(10)).language is None  # type: ignore[union-attr]
    # set_role to a non-doctor drops the doctor id.
    assert await users.set_role(10, Role.COORDINATOR, doctor_id=101)
    assert (await users.get(10)).doctor_id is None  # type: ignore[union-attr]
    assert not await users.set_language(999, "ru")
    assert await users.get(999) is None


async def test_user_lists(session: AsyncSession) -> None:
    users = UserRepository(session)
    await users.upsert(1, Role.ADMIN, display_name="a")
    await users.upsert(2, Role.DOCTOR, doctor_id=7)
    await users.upsert(3, Role.DOCTOR, doctor_id=7)
    await users.upsert(4, Role.DOCTOR, doctor_id=8)
    await users.create(5, Role.COORDINATOR)
    await users.deactivate(3)
    await users.upsert(6, Role.ADMIN)
    await users.deactivate(6)

    assert [u.telegram_id for u in await users.by_doctor_id(7)] == [2]
    # A batch's doctors at once: the same accounts per doctor id (inactive ones left out).
    found = await users.by_doctor_ids([8, 7, 9, 7])
    assert {d: [u.telegram_id for u in us] for d, us in found.items()} == {7: [2], 8: [4], 9: []}
    assert [u.telegram_id for u in await users.admins()] == [1]
    page, total = await users.list_all(limit=2, offset=0)
    assert total == 6 and len(page) == 2
    rest, _ = await users.list_all(limit=10, offset=2)
    assert {u.telegram_id for u in page + rest} == {1, 2, 3, 4, 5, 6}
    active, active_total = await users.list_all(include_inactive=False)
    assert active_total == 4 and 3 not in {u.telegram_id for u in active}
    assert set((await users.get_many([1, 2, 42])).keys()) == {1, 2}
    assert await users.get_many([]) == {}
    assert await users.delete(5)
    assert not await users.delete(5)
    assert await users.get(5) is None


async def test_invite_consume_outcomes(session: AsyncSession) -> None:
    invites = InviteRepository(session)
    inv = await invites.create(
        "code-1", Role.DOCTOR, created_by=1, ttl=timedelta(hours=1), doctor_id=101, now=NOW
    )
    assert inv.code_hash == hash_secret("code-1") and inv.code_hash != "code-1"
    assert inv.expires_at == NOW + timedelta(hours=1)
    assert (await invites.get_by_code("code-1")) is not None
    await invites.create(
        "code-2", Role.COORDINATOR, created_by=1, ttl=timedelta(minutes=5), now=NOW
    )

    assert [i.id for i in await invites.list_pending(NOW)] == [inv.id, inv.id + 1]

    res = await invites.consume("nope", 50, NOW)
    assert res.status is ConsumeStatus.UNKNOWN and res.invite is None and not res.ok

    res = await invites.consume("code-1", 50, NOW + timedelta(minutes=1))
    assert res.ok and res.invite is not None
    assert (res.invite.role, res.invite.doctor_id, res.invite.used_by) == (Role.DOCTOR, 101, 50)
    assert res.invite.used_at == NOW + timedelta(minutes=1)

    res = await invites.consume("code-1", 51, NOW + timedelta(minutes=2))
    assert res.status is ConsumeStatus.USED and res.invite is not None
    assert res.invite.used_by == 50

    res = await invites.consume("code-2", 52, NOW + timedelta(minutes=6))
    assert res.status is ConsumeStatus.EXPIRED

    third = await invites.create(
        "code-3", Role.COORDINATOR, created_by=1, ttl=timedelta(days=1), now=NOW
    )
    assert await invites.revoke(third.id, NOW)
    assert not await invites.revoke(third.id, NOW)
    # Issue 12: a revoked link answers like one that never existed (it was "expired").
    assert (
        await invites.consume("code-3", 53, NOW + timedelta(seconds=1))
    ).status is ConsumeStatus.UNKNOWN
    assert await invites.list_pending(NOW + timedelta(minutes=6)) == []


async def test_invite_consumed_once_under_concurrency(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as s, s.begin():
        await InviteRepository(s).create(
            "race", Role.COORDINATOR, created_by=1, ttl=timedelta(hours=1)
        )

    async def consume(user_id: int) -> ConsumeStatus:
        async with session_factory() as s, s.begin():
            return (await InviteRepository(s).consume("race", user_id)).status

    results = await asyncio.gather(*(consume(100 + i) for i in range(6)))
    assert results.count(ConsumeStatus.OK) == 1
    assert results.count(ConsumeStatus.USED) == 5
    async with session_factory() as s:
        inv = await s.scalar(select(Invite))
        assert inv is not None and inv.used_by in range(100, 106)


async def test_doctor_directory(session: AsyncSession) -> None:
    doctors = DoctorDirectoryRepository(session)
    assert await doctors.list_page() == ([], 0)  # empty
    d = await doctors.upsert(101, "Петров Пётр", specialties="Терапевт", callback_available=True)
    assert (d.display_name, d.specialties, d.callback_available) == (
        "Петров Пётр",
        "Терапевт",
        True,
    )
    d = await doctors.upsert(101, "Петров П. П.")
    assert (d.display_name, d.specialties, d.callback_available) == ("Петров П. П.", "", None)
    for i, name in enumerate(["Яковлева", "Александров", "Борисова"], start=102):
        await doctors.upsert(i, name)
    assert await doctors.rename(102, "Абрамова")
    assert not await doctors.rename(999, "x")
    page, total = await doctors.list_page(limit=2, offset=0)
    assert total == 4
    assert [x.display_name for x in page] == ["Абрамова", "Александров"]
    page2, total2 = await doctors.list_page(limit=2, offset=2)
    assert [x.doctor_id for x in page2] == [104, 101] and total2 == 4
    assert await doctors.list_page(limit=2, offset=10) == ([], 4)  # past the end
    assert (await doctors.get(103)) is not None
    assert set(await doctors.get_many([101, 103, 555])) == {101, 103}
    assert await doctors.remove(103)
    assert not await doctors.remove(103)
    assert await doctors.get(103) is None
    assert await doctors.all_ids() == [101, 102, 104]
