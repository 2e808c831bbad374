"""The retention and token-refresh jobs' statements, as repository methods (no SQL in jobs):
``OutboxRepository.purge_unlinked``, ``FsmRepository.purge_idle``,
``TokenRepository.store_if_absent``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FsmRecord, OutboxMessage
from storage.repositories import (
    ConsultationRepository,
    FsmRepository,
    OutboxRepository,
    TokenRepository,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
CUTOFF = T0 - timedelta(days=30)
OLD = CUTOFF - timedelta(days=1)
RECENT = CUTOFF + timedelta(days=1)


@dataclass
class Pair:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


async def _texts(session: AsyncSession) -> dict[str, tuple[str | None, str | None]]:
    rows = await session.scalars(select(OutboxMessage))
    return {r.dedupe_key or "": (r.text, r.reply_markup) for r in rows}


async def test_purge_unlinked_clears_old_texts_of_messages_without_a_consultation(
    session: AsyncSession,
) -> None:
    outbox = OutboxRepository(session)
    consultation = await ConsultationRepository(session).create_starting(
        "tok-1", coordinator_id=10, doctor_id=101, now=OLD
    )
    markup = {"inline_keyboard": []}
    for key in ("sent-old", "dead-old", "sent-recent", "pending-old", "linked-old"):
        linked = consultation.id if key == "linked-old" else None
        assert await outbox.enqueue(
            1, f"text {key}", reply_markup=markup, dedupe_key=key, consultation_id=linked,
            now=OLD,
        )
    ids = {r.dedupe_key: r.id for r in await session.scalars(select(OutboxMessage))}
    await outbox.mark_sent(ids["sent-old"], 5, now=OLD)
    await outbox.mark_dead(ids["dead-old"], "blocked", now=OLD)
    await outbox.mark_sent(ids["sent-recent"], 6, now=RECENT)
    await outbox.mark_sent(ids["linked-old"], 7, now=OLD)  # the consultation purge's business

    assert await outbox.purge_unlinked(CUTOFF) == 2
    texts = await _texts(session)
    assert texts["sent-old"] == (None, None) and texts["dead-old"] == (None, None)
    assert texts["sent-recent"][0] == "text sent-recent"
    assert texts["pending-old"][0] == "text pending-old"  # not delivered yet: still needed
    assert texts["linked-old"][0] == "text linked-old"
    assert len(texts) == 5  # rows stay: their dedupe keys keep "once" true
    assert await outbox.purge_unlinked(CUTOFF) == 0  # nothing left to clear


def _fsm(chat_id: int, updated_at: datetime) -> FsmRecord:
    return FsmRecord(
        bot_id=1, chat_id=chat_id, user_id=chat_id, thread_id=0,
        business_connection_id="", destiny="default", state="S:x", data="{}",
        updated_at=updated_at,
    )


async def test_purge_idle_deletes_conversations_untouched_since_the_cutoff(
    session: AsyncSession,
) -> None:
    session.add_all([_fsm(1, OLD), _fsm(2, CUTOFF), _fsm(3, RECENT)])
    await session.flush()
    assert await FsmRepository(session).purge_idle(CUTOFF) == 2
    left = list(await session.scalars(select(FsmRecord.chat_id)))
    assert left == [3]
    assert await FsmRepository(session).purge_idle(CUTOFF) == 0


async def test_store_if_absent_stores_the_first_pair_only(session: AsyncSession) -> None:
    tokens = TokenRepository(session)
    assert await tokens.store_if_absent(Pair("env-a", "env-r", T0), now=T0) is True
    row = await tokens.get()
    assert row is not None
    assert (row.access_token, row.refresh_token, row.expires_at) == ("env-a", "env-r", T0)

    # A pair already stored (from partner-login or a refresh) wins over the environment's.
    await tokens.save(Pair("db-a", "db-r", None))
    assert await tokens.store_if_absent(Pair("env-a", "env-r", T0)) is False
    row = await tokens.get()
    assert row is not None and (row.access_token, row.refresh_token) == ("db-a", "db-r")
