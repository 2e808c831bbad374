"""/doctors as use cases: the directory coordinators pick doctors from — list, open, add,
rename, remove, sync names from the partner API.

A doctor is added by id. When the deployment offers the partner API's doctor routes the name
comes from ``get_doctor``; when it does not (``RouteUnavailable``) the admin types the name.
Every call checks ``MANAGE_DOCTORS`` against the presser's role as stored now.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from api_client import PartnerApiClient
from api_client.errors import NotFound, PartnerApiError, RouteUnavailable
from api_client.models import Doctor
from bot.services.access import Action
from bot.services.admin_common import Listing, audit, authorized, page_of
from storage.models import DirectoryDoctor
from storage.repositories.doctors import DoctorDirectoryRepository

log = logging.getLogger(__name__)


class Added(StrEnum):
    ADDED = "added"
    EXISTS = "exists"  # already in the directory: nothing changed
    NEEDS_NAME = "needs_name"  # no doctor lookup in this deployment: the admin names them
    NOT_FOUND = "not_found"  # the partner API has no such doctor
    API_ERROR = "api_error"


@dataclass(frozen=True, slots=True)
class AddResult:
    outcome: Added
    doctor_id: int
    name: str | None = None  # the directory's name (added, or the existing entry's)
    error: PartnerApiError | None = None


@dataclass(frozen=True, slots=True)
class SyncResult:
    updated: int
    missing: int


def _specialties(doctor: Doctor) -> str:
    return ", ".join(s.name for s in doctor.specialties if s.name)[:500]


def _callback_available(doctor: Doctor) -> bool | None:
    ctype = doctor.callback_type
    if ctype is None:
        return False
    available = getattr(ctype, "is_available", None)
    return bool(available) if available is not None else True


class DoctorsDirectory:
    def __init__(
        self, session: AsyncSession, admin_ids: Collection[int], api: PartnerApiClient | None
    ) -> None:
        self.session = session
        self.admin_ids = admin_ids
        self.api = api
        self.repo = DoctorDirectoryRepository(session)

    async def check(self, telegram_id: int) -> None:
        """``AccessDenied`` unless the presser may manage the directory now (also before a
        prompt is opened)."""
        await authorized(self.session, telegram_id, self.admin_ids, Action.MANAGE_DOCTORS)

    async def page(self, telegram_id: int, number: int, size: int) -> Listing[DirectoryDoctor]:
        await self.check(telegram_id)

        async def fetch(limit: int, offset: int) -> tuple[Sequence[DirectoryDoctor], int]:
            return await self.repo.list_page(limit=limit, offset=offset)

        return await page_of(fetch, number, size)

    async def get(self, telegram_id: int, doctor_id: int) -> DirectoryDoctor | None:
        """The entry, or None when it was removed since the screen was drawn."""
        await self.check(telegram_id)
        return await self.repo.get(doctor_id)

    async def remove(self, telegram_id: int, doctor_id: int) -> DirectoryDoctor | None:
        doctor = await self.get(telegram_id, doctor_id)
        if doctor is None:
            return None
        await self.repo.remove(doctor_id)
        await audit(self.session, telegram_id, "doctor_removed", f"doctor:{doctor_id}")
        return doctor

    async def rename(self, telegram_id: int, doctor_id: int, name: str) -> bool:
        await self.check(telegram_id)
        if not await self.repo.rename(doctor_id, name):
            return False
        await audit(self.session, telegram_id, "doctor_renamed", f"doctor:{doctor_id}")
        return True

    async def add(self, telegram_id: int, doctor_id: int) -> AddResult:
        """Add by id, the name from the partner API's doctor lookup when there is one."""
        await self.check(telegram_id)
        existing = await self.repo.get(doctor_id)
        if existing is not None:
            return AddResult(Added.EXISTS, doctor_id, existing.display_name)
        assert self.api is not None
        try:
            doctor = await self.api.get_doctor(doctor_id)
        except RouteUnavailable:
            return AddResult(Added.NEEDS_NAME, doctor_id)
        except NotFound:
            return AddResult(Added.NOT_FOUND, doctor_id)
        except PartnerApiError as exc:
            log.warning("doctor_lookup_failed doctor_id=%s error=%s", doctor_id, type(exc).__name__)
            return AddResult(Added.API_ERROR, doctor_id, error=exc)
        name = (doctor.full_name or str(doctor_id))[:256]
        await self._store(doctor_id, name, doctor)
        await audit(self.session, telegram_id, "doctor_added", f"doctor:{doctor_id}")
        return AddResult(Added.ADDED, doctor_id, name)

    async def add_named(self, telegram_id: int, doctor_id: int, name: str) -> None:
        """Add with the name the admin typed (no doctor lookup in this deployment)."""
        await self.check(telegram_id)
        await self.repo.upsert(doctor_id, name)
        await audit(self.session, telegram_id, "doctor_added", f"doctor:{doctor_id}")

    async def sync(self, telegram_id: int) -> SyncResult:
        """Names (and specialties) from the partner API. Raises ``RouteUnavailable`` when
        the deployment has no doctor lookup, ``PartnerApiError`` when the API fails."""
        await self.check(telegram_id)
        assert self.api is not None
        updated = missing = 0
        for doctor_id in await self.repo.all_ids():
            try:
                doctor = await self.api.get_doctor(doctor_id)
            except RouteUnavailable:
                raise
            except NotFound:
                missing += 1
                continue
            name = doctor.full_name
            current = await self.repo.get(doctor_id)
            if not name or current is None:
                continue
            if current.display_name != name:
                updated += 1
            await self._store(doctor_id, name, doctor)
        await audit(
            self.session, telegram_id, "doctors_synced", f"updated:{updated} missing:{missing}"
        )
        return SyncResult(updated, missing)

    async def _store(self, doctor_id: int, name: str, doctor: Doctor) -> None:
        await self.repo.upsert(
            doctor_id,
            name[:256],
            specialties=_specialties(doctor),
            callback_available=_callback_available(doctor),
        )
