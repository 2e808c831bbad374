from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobLease
from storage.repositories._sql import insert_ignore, rowcount


class JobLeaseRepository:
    """``job_leases``: which replica runs a scheduled job's pass, until when."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take (or renew) the lease on ``name`` for ``holder`` until ``until``: true when
        it was free at ``now`` (expired, or never taken) or already ``holder``'s.

        One conditional UPDATE, and an INSERT … ON CONFLICT DO NOTHING for a job never
        leased before: of two replicas racing, exactly one statement changes a row (on
        PostgreSQL the loser's UPDATE waits on the row lock and re-checks the condition;
        SQLite writers are serialized). The caller commits at once."""
        taken = await self.session.execute(
            update(JobLease)
            .where(
                JobLease.name == name,
                or_(JobLease.expires_at <= now, JobLease.holder == holder),
            )
            .values(holder=holder, expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if rowcount(taken) == 1:
            return True
        inserted = await self.session.execute(
            insert_ignore(
                self.session,
                JobLease,
                {"name": name, "holder": holder, "expires_at": until},
                ["name"],
            )
        )
        return rowcount(inserted) == 1

    async def release(self, name: str, holder: str, now: datetime) -> bool:
        """End ``holder``'s lease on ``name`` now (a replica stopping): another replica may
        run the next tick without waiting for the lease to run out."""
        result = await self.session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder, JobLease.expires_at > now)
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def get(self, name: str) -> JobLease | None:
        return await self.session.get(JobLease, name, populate_existing=True)
