from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FsmRecord
from storage.repositories._sql import rowcount


class FsmRepository:
    """Housekeeping of the conversation-state table (``bot.fsm_storage.SqlStorage`` reads and
    writes it for aiogram)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def purge_idle(self, cutoff: datetime) -> int:
        """Delete conversations untouched since ``cutoff`` (an abandoned wizard holds the
        typed name and phone); the number deleted."""
        result = await self.session.execute(
            delete(FsmRecord)
            .where(FsmRecord.updated_at <= cutoff)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
