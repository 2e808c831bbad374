"""/report (issue 15): who may make which report, the look at the partner before it, and
the paged read of what it counts. No aiogram here; the router renders and sends.

* ``authorize_report`` asks the access policy (``Action.REPORT``: admins and coordinators
  see every consultation of the account, a doctor only those of their doctor id) and, for
  "Include patient details", ``Action.REPORT_PATIENT_DETAILS`` (coordinators and admins),
  writing an audit row (ids and the period only) before anything is read.
* ``ReportMaker.refresh`` looks at the period's open consultations (and those whose figures
  were never stored) through ``get_many`` (URL-bounded batches inside the client), page by
  page, each answer through the one status path (``StatusProcessor.apply``: events,
  messages, and the figures). A partner outage stops the look: the figures stay as last
  seen, and the report says how many were not refreshed.
* ``ReportMaker.records`` reads the period in keyset pages, short transactions each.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.errors import PartnerApiError
from bot.reports.period import Period
from bot.services.access import Action, Actor, authorize
from storage.enums import EventSource
from storage.report_rows import ReportRecord
from storage.repositories import AuditRepository, ConsultationRepository, UserRepository
from storage.repositories.consultations import ReportSelection

if TYPE_CHECKING:
    from api_client.client import PartnerApiClient
    from bot.services.status_changes import StatusProcessor

log = logging.getLogger(__name__)

DETAILS_AUDIT_ACTION = "report_patient_details"
# A doctor account without a doctor id sees nothing (as in /list): no partner id is negative.
_NO_DOCTOR = -1

Progress = Callable[[int, int], Awaitable[None]]  # (done, total)


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What one report reads: the period in the user's zone, whose consultations."""

    period: Period
    selection: ReportSelection
    own_only: bool  # a doctor's own consultations
    patient_details: bool


def report_menu(actor: Actor) -> bool:
    """May ``actor`` make reports at all (``AccessDenied`` otherwise); True when only of
    their own consultations (a doctor)."""
    authorize(actor, Action.REPORT)
    return not actor.is_staff


async def authorize_report(
    session: AsyncSession,
    actor: Actor,
    period: Period,
    tz: tzinfo,
    *,
    patient_details: bool = False,
) -> ReportScope:
    """The scope ``actor`` may read, or ``AccessDenied``. With ``patient_details`` the
    audit row is committed before the caller reads anything."""
    authorize(actor, Action.REPORT)
    if patient_details:
        authorize(actor, Action.REPORT_PATIENT_DETAILS)
        await AuditRepository(session).add(
            actor.telegram_id, DETAILS_AUDIT_ACTION, f"report:{period.key()}"
        )
        await session.commit()
        log.info("report_patient_details user_id=%s period=%s", actor.telegram_id, period.key())
    start, end = period.utc_bounds(tz)
    own_only = not actor.is_staff
    doctor_id = None
    if own_only:
        doctor_id = actor.doctor_id if actor.doctor_id is not None else _NO_DOCTOR
    return ReportScope(
        period=period,
        selection=ReportSelection(start, end, doctor_id),
        own_only=own_only,
        patient_details=patient_details,
    )


@dataclass(frozen=True, slots=True)
class Refreshed:
    looked: int = 0  # consultations fetched and applied
    not_refreshed: int = 0  # wanted a look, but the partner did not answer


@dataclass
class ReportMaker:
    session_factory: async_sessionmaker[AsyncSession]
    api: PartnerApiClient
    processor: StatusProcessor
    outbox_wake: Callable[[], None] = lambda: None
    refresh_page: int = 200  # ids per get_many (split by URL length inside the client)
    read_page: int = 1000

    async def count(self, scope: ReportScope) -> int:
        async with self.session_factory() as session:
            return await ConsultationRepository(session).count_for_report(scope.selection)

    async def refresh(self, scope: ReportScope, progress: Progress | None = None) -> Refreshed:
        async with self.session_factory() as session:
            total = await ConsultationRepository(session).count_refresh(scope.selection)
        done = 0
        after_id = 0
        queued = 0
        while done < total:
            async with self.session_factory() as session:
                repo = ConsultationRepository(session)
                ids = await repo.report_refresh_ids(
                    scope.selection, after_id=after_id, limit=self.refresh_page
                )
                if not ids:
                    break
                after_id = ids[-1]
                rows = await repo.get_many(ids)
                by_partner = {c.partner_id: c for c in rows.values() if c.partner_id}
                try:
                    answers = await self.api.get_many(list(by_partner))
                except PartnerApiError as exc:
                    log.warning(
                        "report_refresh_failed done=%d total=%d error=%s",
                        done,
                        total,
                        type(exc).__name__,
                    )
                    return Refreshed(looked=done, not_refreshed=total - done)
                for callback in answers:
                    consultation = by_partner.get(callback.id)
                    if consultation is not None:
                        result = await self.processor.apply(
                            session, consultation, callback, EventSource.RECONCILE
                        )
                        queued += result.queued
                await session.commit()
            done += len(ids)
            if progress is not None:
                await progress(min(done, total), total)
        if queued:
            self.outbox_wake()
        return Refreshed(looked=done)

    async def records(self, scope: ReportScope) -> list[ReportRecord]:
        records: list[ReportRecord] = []
        while True:
            after = (records[-1].created_at, records[-1].id) if records else None
            async with self.session_factory() as session:
                page = await ConsultationRepository(session).report_page(
                    scope.selection,
                    after=after,
                    limit=self.read_page,
                    patient_details=scope.patient_details,
                )
            records += page
            if len(page) < self.read_page:
                return records

    async def coordinator_names(self, records: list[ReportRecord]) -> dict[int, str]:
        ids = {r.coordinator_id for r in records if r.coordinator_id is not None}
        async with self.session_factory() as session:
            users = await UserRepository(session).get_many(ids)
        return {uid: (u.display_name or f"#{uid}") for uid, u in users.items()}
