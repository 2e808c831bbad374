"""The common ground of the consultation repository's parts: the session, row updates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Consultation
from storage.repositories._sql import rowcount


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
        wanted = list(set(ids))
        if not wanted:
            return 0
        result = await self.session.execute(
            update(Consultation)
            .where(Consultation.id.in_(wanted))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
