from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.models import AuditEntry


class AuditRepository:
    """Who did what to what. Targets are ids ("consultation:12", "user:42"), never names."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        actor_id: int | None,
        action: str,
        target: str | None = None,
        *,
        now: datetime | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            actor_id=actor_id, action=action, target=target, created_at=now or utcnow()
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def list_recent(
        self, limit: int = 50, *, actor_id: int | None = None
    ) -> list[AuditEntry]:
        """Newest first."""
        stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        if actor_id is not None:
            stmt = stmt.where(AuditEntry.actor_id == actor_id)
        return list(await self.session.scalars(stmt.limit(limit)))
