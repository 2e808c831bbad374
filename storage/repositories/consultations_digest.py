"""The morning digest's questions to the local copy: today's scheduled callbacks, yesterday's
outcomes, and what needs a hand (starts stuck in ``unknown``, failures nobody repeated).

Every query takes ``doctor_id``: a doctor's own consultations, or None for every
consultation of the account. Who gets which breadth is the access policy's call
(bot/services/digest.py), never this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from storage.enums import FINAL_STATUSES, ConsultationState, EventSource
from storage.models import Consultation, StatusEvent
from storage.repositories.consultations_base import ConsultationRepositoryBase

_PROCESSED = "Processed"
_UNSUCCESSFUL = "Unsuccessful"


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """Consultations that reached a final status in a period, by how they ended."""

    processed: int = 0  # the call took place
    unsuccessful: int = 0  # it did not take place (the partner's Unsuccessful)
    terminated: int = 0  # Unsuccessful because a coordinator terminated it in the bot

    @property
    def total(self) -> int:
        return self.processed + self.unsuccessful + self.terminated


@dataclass(frozen=True, slots=True)
class Listed:
    """The first rows of a list and how many there are in all."""

    rows: tuple[Consultation, ...] = ()
    total: int = 0


def _scope(doctor_id: int | None) -> list[ColumnElement[bool]]:
    return [] if doctor_id is None else [Consultation.doctor_id == doctor_id]


def _terminated() -> ColumnElement[bool]:
    """A coordinator terminated it through the bot (the event the terminate recorded)."""
    return exists().where(
        StatusEvent.consultation_id == Consultation.id,
        StatusEvent.source == EventSource.TERMINATE,
    )


def _not_final() -> ColumnElement[bool]:
    return or_(Consultation.last_status.is_(None), Consultation.last_status.not_in(FINAL_STATUSES))


class ConsultationDigest(ConsultationRepositoryBase):
    """What a morning digest lists (read only)."""

    async def _listed(
        self, where: list[ColumnElement[bool]], order: list[Any], limit: int
    ) -> Listed:
        total = await self.session.scalar(
            select(func.count()).select_from(Consultation).where(*where)
        )
        rows = await self.session.scalars(
            select(Consultation).where(*where).order_by(*order).limit(limit)
        )
        return Listed(tuple(rows), int(total or 0))

    async def scheduled_between(
        self, start: datetime, end: datetime, *, doctor_id: int | None, limit: int
    ) -> Listed:
        """Open consultations whose start falls in [start, end), earliest first."""
        where = [
            Consultation.state == ConsultationState.ACTIVE,
            Consultation.begin_at >= start,
            Consultation.begin_at < end,
            _not_final(),
            *_scope(doctor_id),
        ]
        return await self._listed(where, [Consultation.begin_at, Consultation.id], limit)

    async def outcomes_between(
        self, start: datetime, end: datetime, *, doctor_id: int | None
    ) -> OutcomeCounts:
        """Consultations whose final status came in [start, end), counted by outcome."""
        terminated = _terminated()
        unsuccessful = Consultation.last_status == _UNSUCCESSFUL

        def count(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        row = (
            await self.session.execute(
                select(
                    count(Consultation.last_status == _PROCESSED),
                    count(and_(unsuccessful, ~terminated)),
                    count(and_(unsuccessful, terminated)),
                ).where(
                    Consultation.last_status.in_(FINAL_STATUSES),
                    Consultation.last_status_at >= start,
                    Consultation.last_status_at < end,
                    *_scope(doctor_id),
                )
            )
        ).one()
        return OutcomeCounts(int(row[0]), int(row[1]), int(row[2]))

    async def stuck_unknown(self, *, doctor_id: int | None, limit: int) -> Listed:
        """Starts whose answer was lost and that reconcile has not settled yet, oldest first:
        nobody may start them again until someone looks."""
        where = [Consultation.state == ConsultationState.UNKNOWN, *_scope(doctor_id)]
        return await self._listed(where, [Consultation.created_at, Consultation.id], limit)

    async def unsuccessful_not_repeated(
        self, since: datetime, *, doctor_id: int | None, limit: int
    ) -> Listed:
        """Consultations that did not take place since ``since`` (not terminated on
        purpose) with no later start for the same patient phone, oldest failure first.

        "Repeated" is any later consultation of that phone that was (or may have been)
        started, with whichever doctor: Repeat lets the coordinator pick another one. A
        failure with no phone stored (started elsewhere without one) cannot be matched and
        is listed.
        """
        later = aliased(Consultation)
        repeated = exists().where(
            later.patient_phone == Consultation.patient_phone,
            later.id != Consultation.id,
            later.created_at > Consultation.created_at,
            later.state.not_in([ConsultationState.DRAFT, ConsultationState.FAILED]),
        )
        where = [
            Consultation.last_status == _UNSUCCESSFUL,
            Consultation.last_status_at >= since,
            ~_terminated(),
            or_(Consultation.patient_phone.is_(None), ~repeated),
            *_scope(doctor_id),
        ]
        return await self._listed(where, [Consultation.last_status_at, Consultation.id], limit)
