"""What people do to one consultation: open (view / refresh), terminate, "I can't take it",
the prefill of Repeat / Reschedule / Start again, and reading the conclusion.

Every entry loads the consultation and asks the access policy with the actor as stored
now; a consultation that is gone and one that is not the actor's are refused alike
(``Denial.NOT_YOURS``), so a forged id tells nothing. The caller renders the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import Conflict, PartnerApiError
from api_client.models import Callback, RequestStatus
from bot.services.access import Action, Actor, authorize
from bot.services.recipients import Person, alert_recipients, coordinator_recipient
from storage.enums import CLOSED_STATES, FINAL_STATUSES, Audience, EventSource
from storage.models import Consultation
from storage.repositories import (
    AuditRepository,
    ConsultationRepository,
    OutboxRepository,
)

if TYPE_CHECKING:
    from api_client.client import PartnerApiClient
    from bot.services.status_changes import StatusProcessor

log = logging.getLogger(__name__)

TERMINATED_ACTION = "consultation_terminated"


def is_final(consultation: Consultation) -> bool:
    return consultation.state in CLOSED_STATES or consultation.last_status in FINAL_STATUSES


async def open_consultation(
    session: AsyncSession, actor: Actor, consultation_id: int, action: Action
) -> Consultation:
    """The consultation for ``action``; AccessDenied when it is gone or not the actor's."""
    consultation = await ConsultationRepository(session).get(consultation_id)
    authorize(actor, action, consultation)
    assert consultation is not None  # authorize refuses a consultation action on None
    return consultation


class TerminateOutcome(StrEnum):
    DONE = "done"
    ALREADY_FINAL = "already_final"  # finished before (ours) or meanwhile (the 409)
    REFUSED = "refused"  # a 2xx with {"success": false}
    FAILED = "failed"  # the service did not answer or refused: ``error`` says how


@dataclass(frozen=True, slots=True)
class Terminated:
    outcome: TerminateOutcome
    queued: int = 0
    error: PartnerApiError | None = None


def _terminated_answer(consultation: Consultation) -> Callback:
    """What we know right after the service confirmed a terminate: it is Unsuccessful now
    (recorded at our clock; the partner's own history entry matches it at a later look)."""
    return Callback.model_validate(
        {"id": consultation.partner_id, "status": {"id": RequestStatus.UNSUCCESSFUL.value}}
    )


async def terminate(
    session: AsyncSession,
    api: PartnerApiClient,
    processor: StatusProcessor,
    actor: Actor,
    consultation: Consultation,
    *,
    card_drawn: bool,
) -> Terminated:
    """Terminate at the partner and record it (committed). ``card_drawn``: the caller
    redraws the stored card message itself, so no in-place edit is queued for it."""
    authorize(actor, Action.TERMINATE, consultation)
    if is_final(consultation) or consultation.partner_id is None:
        return Terminated(TerminateOutcome.ALREADY_FINAL)
    try:
        confirmed = await api.terminate_callback(consultation.partner_id)
    except Conflict:
        log.info("terminate_conflict consultation=%s", consultation.id)
        return Terminated(TerminateOutcome.ALREADY_FINAL)
    except PartnerApiError as exc:
        log.info("terminate_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        return Terminated(TerminateOutcome.FAILED, error=exc)
    if not confirmed:
        log.info("terminate_refused consultation=%s", consultation.id)
        return Terminated(TerminateOutcome.REFUSED)
    # Recorded at once: the partner's web-hook may be processed by the worker meanwhile
    # and must find the terminate already stored. The same path as that web-hook (source
    # terminate): one event, one dedupe key per recipient, so the doctor hears it once.
    result = await processor.apply(
        session,
        consultation,
        _terminated_answer(consultation),
        EventSource.TERMINATE,
        actor_chat_id=actor.telegram_id,
        card_drawn=card_drawn,
    )
    # Who terminated which consultation (ids only), in the same transaction as the event.
    await AuditRepository(session).add(
        actor.telegram_id, TERMINATED_ACTION, f"consultation:{consultation.id}"
    )
    await session.commit()
    log.info(
        "terminated consultation=%s recorded=%d queued=%d",
        consultation.id,
        result.recorded,
        result.queued,
    )
    return Terminated(TerminateOutcome.DONE, queued=result.queued)


def prefill(consultation: Consultation, cb: Callback | None) -> dict[str, Any]:
    """The wizard's prefill keys (bot/dialogs/start_callback/__init__.py) for Repeat,
    Reschedule and Start again; the start time is asked again on purpose."""
    data: dict[str, Any] = {"doctor_id": consultation.doctor_id}
    doctor = consultation.doctor_name
    if cb is not None:
        doctor = cb.doctor_full_name or (cb.doctor.full_name if cb.doctor else None) or doctor
    if doctor:
        data["doctor_name"] = doctor
    phone, name = consultation.patient_phone, consultation.patient_name
    if cb is not None and consultation.purged_at is None:
        phone = cb.patient_phone.e164 if cb.patient_phone is not None else phone
        name = cb.patient_full_name or name
    if phone:
        data["phone"] = phone
    if name:
        data["patient_name"] = name
    if consultation.duration_min:
        data["duration_min"] = consultation.duration_min
    return data


async def cant_take(
    session: AsyncSession,
    actor: Actor,
    consultation: Consultation,
    admin_ids: Collection[int],
    default_timezone: str,
    render: Callable[[Person], str],
) -> int | None:
    """A linked doctor says they can't take it: queue ``render(recipient)`` to its
    coordinator while they may still hear of it, else (started elsewhere, or they left or
    lost the right) to the admins (committed). The number told; None when it is already
    final; 0: nobody."""
    authorize(actor, Action.CANT_TAKE, consultation)
    if is_final(consultation):
        return None
    coordinator = await coordinator_recipient(
        session, consultation, admin_ids=admin_ids, default_timezone=default_timezone
    )
    recipients = (
        [coordinator]
        if coordinator is not None
        else await alert_recipients(session, admin_ids=admin_ids, default_timezone=default_timezone)
    )
    outbox = OutboxRepository(session)
    for recipient in recipients:
        await outbox.enqueue(
            recipient.telegram_id,
            render(recipient),
            dedupe_key=f"cons:{consultation.id}:cant:{actor.telegram_id}"
            f":to:{recipient.telegram_id}",
            consultation_id=consultation.id,
            audience=Audience.CONSULTATION,
        )
    await session.commit()
    log.info("cant_take consultation=%s told=%d", consultation.id, len(recipients))
    return len(recipients)


class ConclusionOutcome(StrEnum):
    SHOWN = "shown"
    EMPTY = "empty"  # none yet (or never started at the partner)


@dataclass(frozen=True, slots=True)
class Conclusion:
    outcome: ConclusionOutcome
    text: str = ""
    doctor: str = ""


async def read_conclusion(
    api: PartnerApiClient, actor: Actor, consultation: Consultation
) -> Conclusion:
    """The conclusion as the partner has it now (never stored). API errors propagate."""
    authorize(actor, Action.READ_CONCLUSION, consultation)
    if consultation.partner_id is None:
        return Conclusion(ConclusionOutcome.EMPTY)
    callback = await api.get_callback(consultation.partner_id)
    report = callback.medical_report
    text = (report.text or "").strip() if report is not None else ""
    if not text:
        return Conclusion(ConclusionOutcome.EMPTY)
    doctor = callback.doctor_full_name or consultation.doctor_name or "—"
    log.info("conclusion_read consultation=%s user_id=%s", consultation.id, actor.telegram_id)
    return Conclusion(ConclusionOutcome.SHOWN, text, doctor)
