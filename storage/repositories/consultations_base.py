"""The common ground of the consultation repository's parts: the session, row updates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Consultation
from storage.repositories._sql import rowcount


def locked_in_id_order(*where: ColumnElement[bool]) -> ScalarSelect[int]:
    """The ids of the rows matching `where`, each locked in ascending id order (PostgreSQL
    FOR NO KEY UPDATE; SQLite's single writer needs no row lock): the one order in which
    every transaction takes consultation rows, so two replicas wait instead of deadlocking.
    An UPDATE's own row locks follow its scan (index or heap order), not the ids."""
    return (
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
            .where(Consultation.id.in_(locked_in_id_order(Consultation.id.in_(wanted))))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
