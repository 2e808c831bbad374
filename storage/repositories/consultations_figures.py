"""The figures /report counts: stored from every look at the partner, read by period.

``store_figures`` is called by the one path every look goes through (web-hook worker,
reconcile, card refresh, a report's own refresh: ``StatusProcessor.apply``). The report
reads a period in keyset pages of (created_at, id), so 10,000 consultations never sit in one
result set, and asks which of them to refresh first (still open, or never looked at since
the figures were stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select

from storage.enums import CLOSED_STATES, OPEN_STATES, Origin
from storage.models import Consultation
from storage.report_rows import CallFigures, ReportRecord
from storage.repositories.consultations_base import ConsultationRepositoryBase


@dataclass(frozen=True, slots=True)
class ReportSelection:
    """A report's consultations: created in [start, end) (aware UTC), known to the partner,
    of one doctor when ``doctor_id`` is set (a doctor's own report)."""

    start: datetime
    end: datetime
    doctor_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [
            Consultation.created_at >= self.start,
            Consultation.created_at < self.end,
            Consultation.partner_id.is_not(None),
        ]
        if self.doctor_id is not None:
            where.append(Consultation.doctor_id == self.doctor_id)
        return where


_COLUMNS = (
    Consultation.id,
    Consultation.partner_id,
    Consultation.created_at,
    Consultation.doctor_id,
    Consultation.doctor_name,
    Consultation.coordinator_id,
    Consultation.origin,
    Consultation.state,
    Consultation.last_status,
    Consultation.terminated,
    Consultation.figures_at,
    Consultation.calls_count,
    Consultation.talk_seconds,
    Consultation.patient_reached,
    Consultation.first_call_at,
    Consultation.cost_per_minute_cents,
    Consultation.cost_currency,
)
_PATIENT = (Consultation.patient_name, Consultation.patient_phone)


class ConsultationFigures(ConsultationRepositoryBase):
    """Writes of a look's figures; the report's reads."""

    async def store_figures(
        self,
        consultation: Consultation,
        figures: CallFigures | None,
        *,
        terminated: bool,
        now: datetime,
    ) -> None:
        """Keep what this look said (``figures`` None: it carried no calls, e.g. the answer
        made up right after a terminate: the stored ones stay). Only changed attributes are
        set, so a look that changes nothing writes nothing."""
        values: dict[str, object] = {}
        if terminated and not consultation.terminated:
            values["terminated"] = True
        if figures is not None:
            values.update(
                calls_count=figures.calls,
                talk_seconds=figures.talk_seconds,
                patient_reached=figures.reached,
                first_call_at=figures.first_call_at,
                cost_per_minute_cents=figures.cost_per_minute_cents,
                cost_currency=figures.currency,
            )
        changed = {k: v for k, v in values.items() if getattr(consultation, k) != v}
        if figures is not None and (set(changed) - {"terminated"} or not consultation.figures_at):
            changed["figures_at"] = now  # when the figures were first stored or last changed
        for key, value in changed.items():
            setattr(consultation, key, value)
        if changed:
            await self.session.flush()

    async def count_for_report(self, selection: ReportSelection) -> int:
        total = await self.session.scalar(
            select(func.count()).select_from(Consultation).where(*selection.where())
        )
        return int(total or 0)

    async def report_refresh_ids(
        self, selection: ReportSelection, *, after_id: int = 0, limit: int = 200
    ) -> list[int]:
        """Ids (ascending, after ``after_id``) worth a look before the report: still open,
        or closed without figures (never looked at since they were stored)."""
        rows = await self.session.scalars(
            select(Consultation.id)
            .where(
                *selection.where(),
                Consultation.id > after_id,
                or_(
                    Consultation.state.in_(OPEN_STATES),
                    Consultation.figures_at.is_(None),
                ),
            )
            .order_by(Consultation.id)
            .limit(limit)
        )
        return list(rows)

    async def count_refresh(self, selection: ReportSelection) -> int:
        total = await self.session.scalar(
            select(func.count())
            .select_from(Consultation)
            .where(
                *selection.where(),
                or_(Consultation.state.in_(OPEN_STATES), Consultation.figures_at.is_(None)),
            )
        )
        return int(total or 0)

    async def report_page(
        self,
        selection: ReportSelection,
        *,
        after: tuple[datetime, int] | None = None,
        limit: int = 1000,
        patient_details: bool = False,
    ) -> list[ReportRecord]:
        """One page of the period, by (created_at, id) after ``after``."""
        columns = [*_COLUMNS, *(_PATIENT if patient_details else ())]
        where = selection.where()
        if after is not None:
            at, last_id = after
            where.append(
                or_(
                    Consultation.created_at > at,
                    and_(Consultation.created_at == at, Consultation.id > last_id),
                )
            )
        result = await self.session.execute(
            select(*columns)
            .where(*where)
            .order_by(Consultation.created_at, Consultation.id)
            .limit(limit)
        )
        return [_record(row, patient_details) for row in result.all()]


def _record(row: Row[Any], patient_details: bool) -> ReportRecord:
    figures = None
    if row.figures_at is not None:
        figures = CallFigures(
            calls=row.calls_count or 0,
            talk_seconds=row.talk_seconds or 0,
            reached=bool(row.patient_reached),
            first_call_at=row.first_call_at,
            cost_per_minute_cents=row.cost_per_minute_cents,
            currency=row.cost_currency,
        )
    return ReportRecord(
        id=row.id,
        partner_id=row.partner_id,
        created_at=row.created_at,
        doctor_id=row.doctor_id,
        doctor_name=row.doctor_name,
        coordinator_id=row.coordinator_id,
        external=row.origin is Origin.EXTERNAL,
        closed=row.state in CLOSED_STATES,
        last_status=row.last_status,
        terminated=bool(row.terminated),
        figures=figures,
        patient_name=row.patient_name if patient_details else None,
        patient_phone=row.patient_phone if patient_details else None,
    )
