"""Starting a consultation: the start, the lost-answer check, the binding of a found start.

One copy, used by the wizard's Confirm and by the reconcile job (DESIGN.md, "Never call a
patient twice"):
1. the actor may start (``Action.START``, their role as stored now — a coordinator demoted
   while the summary was open starts nothing);
2. the local record (state ``starting``, hashed notification token) is committed *before*
   the call, so the notification GET can find it and a crash leaves a trace;
3. the phone is checked again after that commit (of two coordinators confirming one phone
   at once, the later one sees the other's record);
4. start-callback is called exactly once — a lost answer (``OutcomeUnknown``, or a 500 on
   this POST) marks the record ``unknown`` and is never retried;
5. a start found later (at once by the wizard, or by reconcile) is bound by ``bind_start``.

The caller's session is committed here at the points above: the order is the point.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import OutcomeUnknown, PartnerApiError, ServerError
from api_client.models import Callback, Phone, RequestStatus
from bot.services.access import Action, Actor, authorize
from bot.services.start_outcome import find_started, record_start
from storage.enums import ConsultationState, EventSource
from storage.models import Consultation
from storage.repositories.consultations import ConsultationRepository
from storage.repositories.status_events import StatusEventRepository

if TYPE_CHECKING:
    from api_client.client import Attachment, PartnerApiClient

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
AttachmentLoader = Callable[[], Awaitable["Attachment | None"]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What the wizard collected (checked by its steps; the service checks what may have
    changed since: the role, the time, the phone's other consultations)."""

    doctor_id: int
    patient_name: str
    phone_e164: str
    doctor_name: str | None = None
    begin_at: datetime | None = None  # None: now
    duration_min: int | None = None
    attachment_name: str | None = None
    acknowledged_ids: Collection[int] = field(default_factory=tuple)  # open ones seen
    draft: str | None = None  # the wizard run: a second Confirm of it is refused


@dataclass(frozen=True, slots=True)
class Started:
    consultation_id: int
    callback: Callback
    bound: bool = True  # False: started, but not bound (left ``starting`` for reconcile)


@dataclass(frozen=True, slots=True)
class OutcomeLost:
    """The answer was lost: the record is ``unknown``; ``found`` when get-all showed it."""

    consultation_id: int
    attempted_at: datetime


@dataclass(frozen=True, slots=True)
class PhoneBusy:
    """The phone has open consultations the coordinator has not acknowledged: nothing
    was called (the record is deleted)."""

    open_ones: list[Consultation]


@dataclass(frozen=True, slots=True)
class Refused:
    """The service refused the start (the record is ``failed``)."""

    consultation_id: int
    error: PartnerApiError


@dataclass(frozen=True, slots=True)
class AlreadyStarted:
    """The same wizard run already confirmed (``StartRequest.draft``): nothing was called."""

    consultation_id: int
    state: ConsultationState


StartResult = Started | OutcomeLost | PhoneBusy | Refused | AlreadyStarted


async def open_by_phone(
    session: AsyncSession, phone_e164: str, *, exclude_id: int | None = None
) -> list[Consultation]:
    """Consultations of this phone that may still call the patient, newest first."""
    rows = await ConsultationRepository(session).active_or_unknown_by_phone(phone_e164)
    return [c for c in rows if c.id != exclude_id]


def first_status(callback: Callback, now: datetime) -> tuple[str, datetime]:
    """The newest status in a start's answer (Registered when it says nothing)."""
    dated = [h for h in callback.statuses if h.status is not None]
    if dated:
        last = max(dated, key=lambda h: h.created_at_utc or datetime.min.replace(tzinfo=UTC))
        assert last.status is not None
        return last.status.id.value, last.created_at_utc or callback.created_at_utc or now
    status = callback.status.id if callback.status is not None else RequestStatus.REGISTERED
    if status is RequestStatus.UNKNOWN:
        status = RequestStatus.REGISTERED
    return status.value, callback.created_at_utc or now


async def bind_start(
    session: AsyncSession,
    consultation_id: int,
    coordinator_id: int | None,
    found: Callback,
    *,
    now: datetime,
    audit: bool = True,
) -> bool:
    """Bind our record to the consultation the start created, store its first status
    (source ``start``, told to nobody yet), flag it for the status worker (which announces
    a start at its first look) and write the start's audit entry. The caller commits.
    False when the partner id is already bound to another record."""
    repo = ConsultationRepository(session)
    doctor_name = found.doctor_full_name or (found.doctor.full_name if found.doctor else None)
    bound = await repo.bind_partner_id(
        consultation_id, found.id, state=ConsultationState.ACTIVE, doctor_name=doctor_name or None
    )
    if not bound:
        log.warning("start_bind_refused consultation=%s callback_id=%s", consultation_id, found.id)
        return False
    status, occurred_at = first_status(found, now)
    await StatusEventRepository(session).record(
        consultation_id, status, occurred_at, EventSource.START
    )
    # Flagged in this transaction: a crash before the worker's wake-up still leaves it.
    await repo.request_refresh([consultation_id])
    if audit:  # the wizard wrote it already, committed before the bind
        await record_start(session, coordinator_id, consultation_id)
    return True


@dataclass
class ConsultationStarter:
    """The start use case over one session (the update's, or a job's)."""

    session: AsyncSession
    api: PartnerApiClient
    hook_url: Callable[[str], str]  # notification token → the URL the service calls
    clock: Clock = _utcnow

    def may_start(self, actor: Actor) -> None:
        """Raise AccessDenied unless the actor may start (the wizard asks when it opens and at
        Confirm)."""
        authorize(actor, Action.START)

    async def start(
        self, actor: Actor, request: StartRequest, load_attachment: AttachmentLoader | None = None
    ) -> StartResult:
        authorize(actor, Action.START)
        repo = ConsultationRepository(self.session)
        if request.draft is not None:
            earlier = await repo.by_wizard_draft(request.draft)
            if earlier is not None:
                # This run's Confirm already went (a crash mid-call left the summary on
                # screen): it may have called the patient; never a second call from it.
                log.info("start_refused_again consultation=%s state=%s",
                         earlier.id, earlier.state.value)
                return AlreadyStarted(earlier.id, earlier.state)
        token = secrets.token_urlsafe(24)
        record = await repo.create_starting(
            token,
            coordinator_id=actor.telegram_id,
            doctor_id=request.doctor_id,
            doctor_name=request.doctor_name,
            patient_name=request.patient_name,
            patient_phone=request.phone_e164,
            begin_at=request.begin_at,
            duration_min=request.duration_min,
            attachment_name=request.attachment_name,
            wizard_draft=request.draft,
        )
        attempted_at = record.start_attempted_at or self.clock()
        await self.session.commit()

        others = await open_by_phone(self.session, request.phone_e164, exclude_id=record.id)
        if others and not {c.id for c in others} <= set(request.acknowledged_ids):
            await self.session.delete(record)  # never called: nothing to keep
            await self.session.commit()
            log.info("start_held consultation=%s: the phone has an open one", record.id)
            return PhoneBusy(others)
        log.info("start consultation=%s doctor_id=%s", record.id, request.doctor_id)

        try:
            attachment = await load_attachment() if load_attachment is not None else None
            started = await self.api.start_callback(
                request.doctor_id,
                Phone.from_e164(request.phone_e164),
                request.patient_name,
                begin_at=request.begin_at,
                duration_min=request.duration_min,
                attachment=attachment,
                notification_url=self.hook_url(token),
            )
        except (OutcomeUnknown, ServerError) as exc:
            # A 500 on a POST that is not idempotent may have created it: as unknown as a
            # lost answer, and checked against get-all before anyone may try again.
            log.warning("start_outcome_unknown consultation=%s: %s", record.id, type(exc).__name__)
            await repo.set_state(record.id, ConsultationState.UNKNOWN)
            await self.session.commit()
            return OutcomeLost(record.id, attempted_at)
        except PartnerApiError as exc:
            log.info("start_refused consultation=%s: %s", record.id, type(exc).__name__)
            await repo.set_state(record.id, ConsultationState.FAILED)
            await self.session.commit()
            return Refused(record.id, exc)
        # Its own commit first: the start is on record even if the bind fails.
        await record_start(self.session, actor.telegram_id, record.id)
        await self.session.commit()
        try:
            await bind_start(
                self.session, record.id, actor.telegram_id, started, now=self.clock(), audit=False
            )
            await self.session.commit()
        except Exception as exc:  # the patient is being called: never fail the start now
            log.error("start_bind_failed consultation=%s: %s", record.id, type(exc).__name__)
            await self.session.rollback()
            return Started(record.id, started, bound=False)
        return Started(record.id, started)

    async def find_lost(self, record: Consultation, attempted_at: datetime) -> Callback | None:
        """Look for the consultation a start with a lost answer created, and bind it
        (committed). None when not found (it stays ``unknown``). API errors propagate."""
        if record.doctor_id is None or not record.patient_phone:
            return None
        found = await find_started(
            self.api,
            doctor_id=record.doctor_id,
            phone_e164=record.patient_phone,
            attempted_at=attempted_at,
        )
        if found is None:
            return None
        if not await bind_start(
            self.session, record.id, record.coordinator_id, found, now=self.clock()
        ):
            return None
        await self.session.commit()
        return found
