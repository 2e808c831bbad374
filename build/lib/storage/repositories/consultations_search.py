"""Lists and search of consultations: filtered pages for the list dialog, a doctor's own,
search by patient name or phone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, or_, select

from storage.enums import STATUS_ORDER
from storage.models import Consultation
from storage.repositories._sql import LIKE_ESCAPE, escape_like
from storage.repositories.consultations_base import ConsultationRepositoryBase

Order = Literal["created", "status"]

_PHONE_QUERY = re.compile(r"^[\d\s()+\-.]+$")
# Suffix length for phone search: the national number of most countries fits in 10 digits,
# so "8 909 …", "+7 909 …" and "909 …" all find "+79099708593".
_PHONE_SUFFIX_DIGITS = 10
_MIN_PHONE_DIGITS = 4


def name_search_key(name: str) -> str:
    """What `patient_name_search` holds: casefolded, ё→е, single spaces."""
    return " ".join(name.casefold().replace("ё", "е").split())


def _owned_by(doctor_id: int | None, coordinator_id: int | None) -> list[ColumnElement[bool]]:
    """The filters of a doctor's or a coordinator's own consultations (None: no filter)."""
    where: list[ColumnElement[bool]] = []
    if doctor_id is not None:
        where.append(Consultation.doctor_id == doctor_id)
    if coordinator_id is not None:
        where.append(Consultation.coordinator_id == coordinator_id)
    return where


class ConsultationSearch(ConsultationRepositoryBase):
    """Pages of consultations, sorted by creation or status, and search."""

    # -- lists ------------------------------------------------------------------------------

    @staticmethod
    def _status_rank() -> ColumnElement[int]:
        return case(
            {status: i for i, status in enumerate(STATUS_ORDER, start=1)},
            value=Consultation.last_status,
            else_=0,
        )

    async def _page(
        self,
        where: Sequence[ColumnElement[bool]],
        *,
        order: Order,
        ascending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Consultation], int]:
        total = await self.session.scalar(
            select(func.count()).select_from(Consultation).where(*where)
        )
        keys: list[Any] = []
        if order == "status":
            keys.append(self._status_rank())
        keys += [Consultation.created_at, Consultation.id]
        ordered = [k.asc() if ascending else k.desc() for k in keys]
        rows = await self.session.scalars(
            select(Consultation).where(*where).order_by(*ordered).limit(limit).offset(offset)
        )
        return list(rows), int(total or 0)

    async def list_filtered(
        self,
        *,
        doctor_id: int | None = None,
        coordinator_id: int | None = None,
        statuses: Iterable[str] | None = None,
        order: Order = "created",
        ascending: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[Consultation], int]:
        """A page of consultations that exist at the partner, and the total count.

        `statuses` filters on the last known partner status; drafts and failed starts
        (no partner id) never appear.
        """
        where = [Consultation.partner_id.is_not(None), *_owned_by(doctor_id, coordinator_id)]
        if statuses is not None:
            where.append(Consultation.last_status.in_(list(statuses)))
        return await self._page(where, order=order, ascending=ascending, limit=limit, offset=offset)

    async def list_for_doctor(
        self,
        doctor_id: int,
        statuses: Iterable[str] | None = None,
        order: Order = "created",
        ascending: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[Consultation], int]:
        return await self.list_filtered(
            doctor_id=doctor_id,
            statuses=statuses,
            order=order,
            ascending=ascending,
            limit=limit,
            offset=offset,
        )

    async def search(
        self,
        query: str,
        *,
        doctor_id: int | None = None,
        coordinator_id: int | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[Consultation], int]:
        """`/find`: by phone (any common form, matched on the last digits) or by surname
        (case-insensitive, Cyrillic included, start of any word of the name); newest first."""
        query = query.strip()
        digits = re.sub(r"\D", "", query)
        where: list[ColumnElement[bool]] = []
        if _PHONE_QUERY.match(query) and len(digits) >= _MIN_PHONE_DIGITS:
            where.append(Consultation.patient_phone.like("%" + digits[-_PHONE_SUFFIX_DIGITS:]))
        else:
            key = name_search_key(query)
            if not key:
                return [], 0
            pattern = escape_like(key)
            where.append(
                or_(
                    Consultation.patient_name_search.like(pattern + "%", escape=LIKE_ESCAPE),
                    Consultation.patient_name_search.like("% " + pattern + "%", escape=LIKE_ESCAPE),
                )
            )
        where += _owned_by(doctor_id, coordinator_id)
        return await self._page(where, order="created", ascending=False, limit=limit, offset=offset)
