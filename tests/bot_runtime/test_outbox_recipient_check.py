"""The outbox re-checks the recipient's right at send time (bot.services.delivery), against
the fake Telegram Bot API: a row whose recipient lost the right is dead, audited, never sent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxSender
from bot.services.delivery import may_deliver
from storage.enums import Audience, Role
from storage.models import OutboxMessage
from storage.repositories.audit import AuditRepository
from storage.repositories.consultations import ConsultationRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository
from tests.fake_telegram import FakeTelegram

SF = async_sessionmaker[AsyncSession]
ADMIN, STAFF, DOCTOR_ACCOUNT, OTHER_DOCTOR_ACCOUNT, STRANGER = 500, 501, 502, 503, 504
DOCTOR_ID, OTHER_DOCTOR_ID = 7001, 7002
PATIENT = "Петров Пётр"


async def user(sf: SF, telegram_id: int, role: Role, doctor_id: int | None = None) -> None:
    async with sf() as session:
        await UserRepository(session).upsert(telegram_id, role, doctor_id=doctor_id)
        await session.commit()


async def consultation(sf: SF) -> int:
    async with sf() as session:
        row = await ConsultationRepository(session).create_starting(
            "feedc0de",
            coordinator_id=STAFF,
            doctor_id=DOCTOR_ID,
            doctor_name="Иванов Иван",
            patient_name=PATIENT,
            patient_phone="+79099708593",
            begin_at=datetime.now(UTC) + timedelta(hours=1),
            duration_min=20,
        )
        await session.commit()
        return row.id


async def enqueue(sf: SF, chat_id: int, text: str, **kw: object) -> None:
    async with sf() as session:
        assert await OutboxRepository(session).enqueue(chat_id, text, **kw)  # type: ignore[arg-type]
        await session.commit()


async def rows(sf: SF) -> dict[str, OutboxMessage]:
    async with sf() as session:
        found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return {r.text or "": r for r in found}


async def audit_targets(sf: SF) -> list[tuple[int | None, str, str | None]]:
    async with sf() as session:
        entries = await AuditRepository(session).list_recent()
        return [(e.actor_id, e.action, e.target) for e in reversed(entries)]


def texts(fake_tg: FakeTelegram, chat_id: int) -> list[str]:
    """What reached the chat, without the sandbox demo mark."""
    return [(m.text or "").split("\n\n")[0] for m in fake_tg.bot_messages(chat_id)]


async def run_until_drained(sender: OutboxSender) -> None:
    sender.start()
    sender.wake()
    try:
        await sender.drain(30)
    finally:
        await sender.stop()


def sender_for(bot: Bot, sf: SF, admin_ids: frozenset[int]) -> OutboxSender:
    return OutboxSender(bot, sf, per_chat_interval=0.05, admin_ids=admin_ids)


async def test_push_to_a_coordinator_demoted_to_unlinked_doctor_is_dropped_and_audited(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tg.user(STAFF)
    cid = await consultation(session_factory)
    await user(session_factory, STAFF, Role.COORDINATOR)
    await enqueue(
        session_factory, STAFF, f"card {PATIENT}", consultation_id=cid, audience="consultation"
    )
    # Queued while a coordinator; demoted before the sender got to it.
    await user(session_factory, STAFF, Role.DOCTOR, doctor_id=OTHER_DOCTOR_ID)
    await enqueue(session_factory, STAFF, "your account changed")  # no audience: still sent

    caplog.set_level(logging.INFO, logger="bot.outbox")
    sender = sender_for(bot, session_factory, frozenset({ADMIN}))
    await run_until_drained(sender)

    assert texts(fake_tg, STAFF) == ["your account changed"]
    stored = await rows(session_factory)
    dropped = stored[f"card {PATIENT}"]
    assert dropped.dead and dropped.sent_at is None
    assert dropped.last_error == "recipient_no_access" and dropped.attempts == 1
    assert stored["your account changed"].sent_at is not None
    assert await audit_targets(session_factory) == [
        (None, "outbox_dropped_no_access", f"outbox:{dropped.id}")
    ]
    assert (sender.sent_count, sender.dead_count) == (1, 1)
    lines = [r.getMessage() for r in caplog.records if "outbox_dropped_no_access" in r.getMessage()]
    assert lines == [
        f"outbox_dropped_no_access row_id={dropped.id} chat_id={STAFF} "
        f"consultation_id={cid} audience=consultation"
    ]
    assert [r.levelno for r in caplog.records if "dropped" in r.getMessage()] == [logging.INFO]
    assert not any(PATIENT in r.getMessage() for r in caplog.records)


async def test_push_to_a_linked_doctor_is_sent_and_to_another_doctor_dropped(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    fake_tg.user(DOCTOR_ACCOUNT)
    fake_tg.user(OTHER_DOCTOR_ACCOUNT)
    cid = await consultation(session_factory)
    await user(session_factory, DOCTOR_ACCOUNT, Role.DOCTOR, doctor_id=DOCTOR_ID)
    await user(session_factory, OTHER_DOCTOR_ACCOUNT, Role.DOCTOR, doctor_id=OTHER_DOCTOR_ID)
    for chat in (DOCTOR_ACCOUNT, OTHER_DOCTOR_ACCOUNT):
        await enqueue(
            session_factory, chat, f"booked {chat}", consultation_id=cid, audience="consultation"
        )
    await run_until_drained(sender_for(bot, session_factory, frozenset({ADMIN})))

    assert texts(fake_tg, DOCTOR_ACCOUNT) == [f"booked {DOCTOR_ACCOUNT}"]
    assert texts(fake_tg, OTHER_DOCTOR_ACCOUNT) == []
    stored = await rows(session_factory)
    assert stored[f"booked {DOCTOR_ACCOUNT}"].sent_at is not None
    assert stored[f"booked {OTHER_DOCTOR_ACCOUNT}"].last_error == "recipient_no_access"


async def test_admin_alert_to_an_id_removed_from_admin_ids_is_dropped(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    former = STRANGER
    fake_tg.user(ADMIN)
    fake_tg.user(former)
    await user(session_factory, former, Role.ADMIN)  # stored as admin, no longer in ADMIN_IDS
    await enqueue(session_factory, ADMIN, "alert 1", audience=Audience.ADMIN)
    await enqueue(session_factory, former, "alert 2", audience=Audience.ADMIN)
    await run_until_drained(sender_for(bot, session_factory, frozenset({ADMIN})))

    assert texts(fake_tg, ADMIN) == ["alert 1"]  # in ADMIN_IDS, no stored row needed
    assert texts(fake_tg, former) == []
    stored = await rows(session_factory)
    assert stored["alert 2"].dead and stored["alert 2"].last_error == "recipient_no_access"
    assert [a for _, a, _ in await audit_targets(session_factory)] == ["outbox_dropped_no_access"]


async def test_rows_without_audience_go_to_anyone(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    fake_tg.user(STRANGER)
    await enqueue(session_factory, STRANGER, "invite accepted?")  # no user row at all
    await run_until_drained(sender_for(bot, session_factory, frozenset()))
    assert texts(fake_tg, STRANGER) == ["invite accepted?"]
    assert await audit_targets(session_factory) == []


async def test_without_a_check_configured_nothing_is_checked(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    """No admin_ids and no recipient_check: the sender sends as before the audience."""
    fake_tg.user(STRANGER)
    await enqueue(session_factory, STRANGER, "alert", audience="admin")
    await run_until_drained(OutboxSender(bot, session_factory, per_chat_interval=0.05))
    assert texts(fake_tg, STRANGER) == ["alert"]


async def test_an_injected_check_decides(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    fake_tg.user(STRANGER)
    await enqueue(session_factory, STRANGER, "no", audience="admin")
    await enqueue(session_factory, STRANGER, "yes", audience="consultation")
    seen: list[str | None] = []

    async def only_consultations(session: AsyncSession, row: OutboxMessage) -> bool:
        seen.append(row.audience)
        return row.audience == "consultation"

    sender = OutboxSender(
        bot, session_factory, per_chat_interval=0.05, recipient_check=only_consultations
    )
    await run_until_drained(sender)
    assert texts(fake_tg, STRANGER) == ["yes"]
    assert seen == ["admin", "consultation"]


async def test_may_deliver_refuses_groups_unknown_audiences_and_missing_consultations(
    session_factory: SF,
) -> None:
    cid = await consultation(session_factory)
    await user(session_factory, STAFF, Role.COORDINATOR)

    def row(chat_id: int, audience: str | None, consultation_id: int | None) -> OutboxMessage:
        return OutboxMessage(
            id=1, chat_id=chat_id, audience=audience, consultation_id=consultation_id
        )

    admins = frozenset({ADMIN})
    async with session_factory() as session:
        assert await may_deliver(session, row(STAFF, "consultation", cid), admins)
        assert await may_deliver(session, row(ADMIN, "consultation", cid), admins)
        assert await may_deliver(session, row(ADMIN, "admin", None), admins)
        assert await may_deliver(session, row(-100123, None, cid), admins)  # the team chat
        assert not await may_deliver(session, row(-100123, "consultation", cid), admins)
        assert not await may_deliver(session, row(ADMIN, "admin", None), frozenset())
        assert not await may_deliver(session, row(STAFF, "admin", None), admins)
        assert not await may_deliver(session, row(STAFF, "consultation", None), admins)
        assert not await may_deliver(session, row(STAFF, "consultation", cid + 99), admins)
        assert not await may_deliver(session, row(STAFF, "someone", cid), admins)
        assert not await may_deliver(session, row(STRANGER, "consultation", cid), admins)
