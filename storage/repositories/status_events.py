from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.enums import EventSource
from storage.models import Consultation, StatusEvent
from storage.repositories._sql import chunks, insert_ignore


class StatusEventRepository:
    """Each partner status a consultation passed through, stored once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        consultation_id: int,
        status: str,
        occurred_at: datetime,
        source: EventSource,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Store the event; True if it is new.

        A duplicate (same consultation, status and time) is absorbed by the unique
        constraint (ON CONFLICT DO NOTHING), so concurrent workers store it once and only
        one of them sees True. A new event also moves the consultation's last status when
        it is not older than the one known — both in the caller's transaction.
        """
        now = now or utcnow()
        new_id = await self.session.scalar(
            insert_ignore(
                self.session,
                StatusEvent,
                {
                    "consultation_id": consultation_id,
                    "status": status,
                    "occurred_at": occurred_at,
                    "source": source,
                    "recorded_at": now,
                },
                ["consultation_id", "status", "occurred_at"],
            ).returning(StatusEvent.id)
        )
        if new_id is None:
            return False
        await self.session.execute(
            update(Consultation)
            .where(
                Consultation.id == consultation_id,
                or_(
                    Consultation.last_status_at.is_(None),
                    Consultation.last_status_at <= occurred_at,
                ),
            )
            .values(last_status=status, last_status_at=occurred_at, updated_at=now)
        )
        return True

    async def list_for(self, consultation_id: int) -> list[StatusEvent]:
        """Oldest first."""
        rows = await self.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.consultation_id == consultation_id)
            .order_by(StatusEvent.occurred_at, StatusEvent.id)
        )
        return list(rows)

    async def list_for_many(self, consultation_ids: Iterable[int]) -> dict[int, list[StatusEvent]]:
        """`list_for` of many consultations in one query (per 500): id → events, oldest
        first; an id without events maps to an empty list."""
        wanted = sorted(set(consultation_ids))
        found: dict[int, list[StatusEvent]] = {i: [] for i in wanted}
        for part in chunks(wanted, 500):
            rows = await self.session.scalars(
                select(StatusEvent)
                .where(StatusEvent.consultation_id.in_(part))
                .order_by(StatusEvent.consultation_id, StatusEvent.occurred_at, StatusEvent.id)
            )
            for event in rows:
                found[event.consultation_id].append(event)
        return found

    async def known(self, consultation_id: int) -> set[tuple[str, datetime]]:
        """(status, occurred_at) pairs already stored, to diff against a fetched history."""
        rows = await self.session.execute(
            select(StatusEvent.status, StatusEvent.occurred_at).where(
                StatusEvent.consultation_id == consultation_id
            )
        )
        return {(status, at) for status, at in rows}
