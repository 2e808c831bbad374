"""The common ground of the consultation repository's parts: the session, row updates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Consultation
from storage.repositories._sql import rowcount


def rows_in_id_order(session: AsyncSession, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """An UPDATE's condition for the rows matching `where`, taking their locks in ascending
    id order: the one order in which every transaction takes consultation rows, so two
    replicas wait for each other instead of deadlocking. On PostgreSQL the ids are picked
    and locked first (FOR NO KEY UPDATE, ordered), as an UPDATE's own row locks follow its
    scan (index or heap order); SQLite's single writer takes no row locks: `where` as is."""
    if session.get_bind().dialect.name != "postgresql":
        return and_(*where)
    return Consultation.id.in_(
        select(Consultation.id)
        .where(*where)
        .order_by(Consultation.id)
        .with_for_update(key_share=True)
        .scalar_subquery()
    )


class ConsultationRepositoryBase:
    """Holds the session; every part of ``ConsultationRepository`` builds on it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _set(self, consultation_id: int, **values: Any) -> bool:
        result = await self.session.execute(
            update(Consultation).where(Consultation.id == consultation_id).values(**values)
        )
        return rowcount(result) > 0

    async def _set_many(self, ids: Iterable[int], **values: Any) -> int:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        result = await self.session.execute(
            update(Consultation)
            .where(rows_in_id_order(self.session, Consultation.id.in_(wanted)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
