from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.models import DirectoryDoctor
from storage.repositories._sql import rowcount, upsert

_COUNT = select(func.count()).select_from(DirectoryDoctor)
# Built once (a statement built per call costs about as much CPU as running it).
_PAGE = (
    select(DirectoryDoctor, _COUNT.scalar_subquery().label("total"))
    .order_by(DirectoryDoctor.display_name, DirectoryDoctor.doctor_id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


class DoctorDirectoryRepository:
    """The doctors coordinators pick from, by name."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, doctor_id: int) -> DirectoryDoctor | None:
        return await self.session.get(DirectoryDoctor, doctor_id)

    async def get_many(self, doctor_ids: Iterable[int]) -> dict[int, DirectoryDoctor]:
        ids = list(set(doctor_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(DirectoryDoctor).where(DirectoryDoctor.doctor_id.in_(ids))
        )
        return {d.doctor_id: d for d in rows}

    async def upsert(
        self,
        doctor_id: int,
        display_name: str,
        *,
        specialties: str = "",
        callback_available: bool | None = None,
    ) -> DirectoryDoctor:
        now = utcnow()
        values = {
            "display_name": display_name,
            "specialties": specialties,
            "callback_available": callback_available,
            "updated_at": now,
        }
        await self.session.execute(
            upsert(
                self.session,
                DirectoryDoctor,
                {"doctor_id": doctor_id, **values},
                ["doctor_id"],
                values,
            )
        )
        doctor = await self.session.get(DirectoryDoctor, doctor_id, populate_existing=True)
        assert doctor is not None
        return doctor

    async def rename(self, doctor_id: int, display_name: str) -> bool:
        result = await self.session.execute(
            update(DirectoryDoctor)
            .where(DirectoryDoctor.doctor_id == doctor_id)
            .values(display_name=display_name)
        )
        return rowcount(result) > 0

    async def remove(self, doctor_id: int) -> bool:
        result = await self.session.execute(
            delete(DirectoryDoctor)
            .where(DirectoryDoctor.doctor_id == doctor_id)
            .execution_options(synchronize_session="fetch")
        )
        return rowcount(result) > 0

    async def list_page(
        self, *, limit: int = 10, offset: int = 0
    ) -> tuple[list[DirectoryDoctor], int]:
        """A page ordered by name, and the total count (one statement: the wizard's first
        step shows it on every start)."""
        rows = (await self.session.execute(_PAGE, {"limit": limit, "offset": offset})).all()
        if rows:
            return [doctor for doctor, _total in rows], int(rows[0][1])
        if offset == 0:
            return [], 0
        # Past the end: nothing on the page to carry the count.
        total = await self.session.scalar(_COUNT)
        return [], int(total or 0)

    async def all_ids(self) -> list[int]:
        rows = await self.session.scalars(
            select(DirectoryDoctor.doctor_id).order_by(DirectoryDoctor.doctor_id)
        )
        return list(rows)
