"""Retention purges exactly the rows past the boundary and keeps ids and statuses.

Every test runs at the fixed "todays" of tests/fixed_days.py (the ``now`` fixture): the
boundary 30 days back crosses a month, a year end and February of a leap year."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.retention import RetentionJob
from storage.enums import ConsultationState, EventSource
from storage.models import Consultation, FsmRecord, OutboxMessage, StatusEvent
from storage.repositories import (
    ConsultationRepository,
    OutboxRepository,
    StatusEventRepository,
)
from tests.fixed_days import FIXED_TODAYS

Factory = async_sessionmaker[AsyncSession]
DAYS = 30


@pytest.fixture(params=FIXED_TODAYS)
def now(request: pytest.FixtureRequest) -> datetime:
    """The job's clock reading (aware UTC), one of the fixed todays."""
    moment: datetime = request.param
    return moment.astimezone(UTC)


async def _bot_consultation(
    session: AsyncSession,
    token: str,
    *,
    created: datetime,
    state: ConsultationState,
    final_at: datetime | None = None,
    partner: bool = True,
) -> int:
    repo = ConsultationRepository(session)
    row = await repo.create_starting(
        token,
        coordinator_id=1001,
        doctor_id=101,
        doctor_name="Иванов Иван",
        patient_name=f"Пациент {token}",
        patient_phone="+79099708593",
        attachment_name="analysis.pdf",
        now=created,
    )
    if partner:
        await repo.bind_partner_id(row.id, f"partner-{token}", now=created)
        status = "Processed" if state is ConsultationState.FINAL else "Registered"
        await StatusEventRepository(session).record(
            row.id, status, final_at or created, EventSource.RECONCILE, now=final_at or created
        )
    await session.execute(
        update(Consultation)
        .where(Consultation.id == row.id)
        .values(state=state, last_status_at=final_at)
    )
    await OutboxRepository(session).enqueue(
        1001,
        f"text about Пациент {token}",
        reply_markup={"inline_keyboard": []},
        dedupe_key=f"cons:{row.id}:msg",
        consultation_id=row.id,
        now=created,
    )
    return row.id


@pytest.fixture
async def rows(session_factory: Factory, now: datetime) -> dict[str, int]:
    ids: dict[str, int] = {}
    cutoff = now - timedelta(days=DAYS)
    async with session_factory() as session:
        final = ConsultationState.FINAL
        ids["final_old"] = await _bot_consultation(
            session, "old", created=now - timedelta(days=40), state=final,
            final_at=now - timedelta(days=31),
        )
        ids["final_boundary"] = await _bot_consultation(
            session, "edge", created=now - timedelta(days=40), state=final, final_at=cutoff,
        )
        ids["final_recent"] = await _bot_consultation(
            session, "recent", created=now - timedelta(days=40), state=final,
            final_at=cutoff + timedelta(minutes=1),
        )
        ids["active_old"] = await _bot_consultation(
            session, "active", created=now - timedelta(days=60), state=ConsultationState.ACTIVE,
        )
        ids["draft_old"] = await _bot_consultation(
            session, "draft", created=now - timedelta(days=31), state=ConsultationState.DRAFT,
            partner=False,
        )
        ids["failed_old"] = await _bot_consultation(
            session, "failed", created=now - timedelta(days=31),
            state=ConsultationState.FAILED, partner=False,
        )
        ids["draft_recent"] = await _bot_consultation(
            session, "fresh", created=now - timedelta(days=29), state=ConsultationState.DRAFT,
            partner=False,
        )
        outbox = OutboxRepository(session)
        await outbox.enqueue(1, "alert old", dedupe_key="alert:old", now=now - timedelta(days=40))
        await outbox.enqueue(1, "alert new", dedupe_key="alert:new", now=now - timedelta(days=1))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "alert:old")
            .values(sent_at=now - timedelta(days=31))
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "alert:new")
            .values(sent_at=now - timedelta(days=1))
        )
        for user_id, age in ((7, 31), (8, 1)):
            session.add(
                FsmRecord(
                    bot_id=1, chat_id=user_id, user_id=user_id, thread_id=0,
                    business_connection_id="", destiny="default", state="Wizard:phone",
                    data='{"phone": "+79099708593"}', updated_at=now - timedelta(days=age),
                )
            )
        # Every consultation was last touched "now" by the test's clock: the storage's own
        # default (updated_at = the wall clock) would put it years away from a fixed today,
        # and FAILED rows then fall to the final purge (by updated_at) instead of the
        # abandoned one.
        await session.execute(update(Consultation).values(updated_at=now))
        await session.commit()
    return ids


PURGED = ("final_old", "final_boundary", "draft_old", "failed_old")
KEPT = ("final_recent", "active_old", "draft_recent")


async def test_purges_exactly_past_the_boundary(
    session_factory: Factory,
    rows: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    now: datetime,
) -> None:
    job = RetentionJob(session_factory, timedelta(days=DAYS), now=lambda: now)
    with caplog.at_level(logging.INFO, logger="bot.jobs.retention"):
        counts = await job.run()
    assert counts.final_consultations == 2
    assert counts.abandoned_consultations == 2
    assert counts.consultation_messages == 4
    assert counts.other_messages == 1
    assert counts.conversations == 1
    log_line = next(r.getMessage() for r in caplog.records if "retention_done" in r.getMessage())
    assert "final=2 abandoned=2" in log_line and "Пациент" not in log_line

    async with session_factory() as session:
        by_id = {c.id: c for c in await session.scalars(select(Consultation))}
        assert len(by_id) == len(rows)  # nothing deleted
        for name in PURGED:
            c = by_id[rows[name]]
            assert (c.patient_name, c.patient_name_search, c.patient_phone) == (None, None, None)
            assert c.attachment_name is None and c.purged_at == now
        for name in KEPT:
            c = by_id[rows[name]]
            assert c.patient_name is not None and c.patient_phone == "+79099708593"
            assert c.purged_at is None
        # Ids, states, statuses and history stay.
        old = by_id[rows["final_old"]]
        assert old.partner_id == "partner-old" and old.state is ConsultationState.FINAL
        assert old.last_status == "Processed"
        events = list(
            await session.scalars(
                select(StatusEvent.status).where(StatusEvent.consultation_id == old.id)
            )
        )
        assert events == ["Processed"]

        messages = {m.dedupe_key: m for m in await session.scalars(select(OutboxMessage))}
        for name in PURGED:
            m = messages[f"cons:{rows[name]}:msg"]  # the row (and its dedupe key) stays
            assert m.text is None and m.reply_markup is None
            assert m.dead  # never sent: it would have carried the purged data
        for name in KEPT:
            assert messages[f"cons:{rows[name]}:msg"].text is not None
        assert messages["alert:old"].text is None
        assert messages["alert:new"].text == "alert new"

        fsm = list(await session.scalars(select(FsmRecord.chat_id)))
        assert fsm == [8]

    again = await RetentionJob(session_factory, timedelta(days=DAYS), now=lambda: now).run()
    assert (again.final_consultations, again.abandoned_consultations, again.other_messages) == (
        0, 0, 0,
    )


async def test_conversations_left_alone_with_redis(
    session_factory: Factory, rows: dict[str, int], now: datetime
) -> None:
    job = RetentionJob(
        session_factory, timedelta(days=DAYS), purge_conversations=False, now=lambda: now
    )
    assert (await job.run()).conversations == 0
    async with session_factory() as session:
        assert len(list(await session.scalars(select(FsmRecord.chat_id)))) == 2
