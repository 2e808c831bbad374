"""Which consultation did a start-callback with a lost answer create, if any?

``start-callback`` is not idempotent (DESIGN.md, "Never call a patient twice"): when its
answer is lost, the bot looks through ``get-all`` (newest first) for a consultation with
the same doctor and phone created within a minute of the attempt. Used right after the
lost answer by the wizard and later by the reconcile job.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api_client.client import PartnerApiClient
from api_client.models import Callback
from storage.repositories.audit import AuditRepository

log = logging.getLogger(__name__)

MATCH_WINDOW = timedelta(minutes=1)
STARTED_ACTION = "consultation_started"


async def record_start(session: AsyncSession, actor_id: int | None, consultation_id: int) -> None:
    """The audit entry of a start (ids only), when the start call returned or a start with a
    lost answer was found and bound. The caller commits."""
    await AuditRepository(session).add(actor_id, STARTED_ACTION, f"consultation:{consultation_id}")


def is_same_start(
    callback: Callback,
    *,
    doctor_id: int,
    phone_e164: str,
    attempted_at: datetime,
    window: timedelta = MATCH_WINDOW,
) -> bool:
    """True when ``callback`` looks like the one the attempt created.

    Strict on purpose: binding somebody else's consultation is worse than leaving the
    record ``unknown`` (which blocks a retry until a person looks).
    """
    if callback.doctor is None or callback.doctor.id != doctor_id:
        return False
    if callback.patient_phone is None or callback.patient_phone.e164 != phone_e164:
        return False
    if callback.created_at_utc is None:
        return False
    return abs(callback.created_at_utc - attempted_at) <= window


def match_started(
    callbacks: Iterable[Callback],
    *,
    doctor_id: int,
    phone_e164: str,
    attempted_at: datetime,
    window: timedelta = MATCH_WINDOW,
    exclude_ids: Collection[str] = (),
) -> Callback | None:
    """The newest matching consultation not already bound to another local record."""
    candidates = [
        cb
        for cb in callbacks
        if cb.id not in exclude_ids
        and is_same_start(
            cb,
            doctor_id=doctor_id,
            phone_e164=phone_e164,
            attempted_at=attempted_at,
            window=window,
        )
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda cb: cb.created_at_utc or attempted_at)


async def find_started(
    api: PartnerApiClient,
    *,
    doctor_id: int,
    phone_e164: str,
    attempted_at: datetime,
    window: timedelta = MATCH_WINDOW,
    exclude_ids: Collection[str] = (),
    page_size: int = 20,
    max_pages: int = 5,
) -> Callback | None:
    """Look through ``get-all`` newest first until the consultations are older than the window.

    API errors propagate: the caller keeps the record ``unknown`` and tries again later.
    """
    oldest_wanted = attempted_at - window
    for page_no in range(max_pages):
        page = await api.list_callbacks(
            order="Created", asc=False, limit=page_size, offset=page_no * page_size
        )
        found = match_started(
            page.items,
            doctor_id=doctor_id,
            phone_e164=phone_e164,
            attempted_at=attempted_at,
            window=window,
            exclude_ids=exclude_ids,
        )
        if found is not None:
            log.info("start_outcome matched callback_id=%s doctor_id=%s", found.id, doctor_id)
            return found
        created = [cb.created_at_utc for cb in page.items if cb.created_at_utc is not None]
        # received, not len(items): a dropped unreadable entry is not the end of the list
        if page.received < page_size or (created and min(created) < oldest_wanted):
            break
    log.info("start_outcome no match doctor_id=%s", doctor_id)
    return None
