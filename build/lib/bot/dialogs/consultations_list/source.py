"""Where a page of a list comes from.

* Coordinators and admins (filters Active/Scheduled/Finished/All) page through the
  partner's ``get-all`` itself: exactly one request per page. Consultations on the page
  that the local copy does not know were started elsewhere: they are mirrored with
  ``upsert_external`` so their card (which works on local ids) opens.
* Doctors, "Mine" and ``/find`` page over the local copy (the API cannot filter by doctor,
  coordinator or patient), then fetch that page's ids in one ``get-all?ids=...``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import PartnerApiError
from api_client.models import Callback
from bot.callback_data import ListFilter, SortKey
from bot.i18n import Translator
from bot.rendering.consultation_list import PAGE_SIZE, ListRow, clamp_page, statuses_for
from bot.rendering.partner_errors import partner_error_text
from bot.services.access import Action, Actor, authorize
from storage.enums import Origin
from storage.models import Consultation
from storage.repositories import ConsultationRepository
from storage.repositories.consultations import Order

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: ListFilter = ListFilter.ACTIVE
    sort: SortKey = SortKey.CREATED
    asc: bool = False
    page: int = 0
    text: str | None = None  # the /find query (FIND only)


@dataclass
class PageResult:
    rows: list[ListRow] = field(default_factory=list)
    total: int = 0
    page: int = 0
    note: str | None = None  # a warning shown above the rows (service did not answer)


def doctor_name_of(cb: Callback | None, local: Consultation | None) -> str | None:
    if cb is not None:
        if cb.doctor_full_name:
            return cb.doctor_full_name
        if cb.doctor is not None and cb.doctor.full_name:
            return cb.doctor.full_name
    return local.doctor_name if local is not None else None


def make_row(local: Consultation, cb: Callback | None) -> ListRow:
    status = local.last_status
    name, phone = local.patient_name, local.patient_phone
    start = local.begin_at
    if cb is not None:
        current = cb.current_status
        if current.value != "Unknown":
            status = current.value
        name = cb.patient_full_name or name
        phone = cb.patient_phone.e164 if cb.patient_phone is not None else phone
        start = start or cb.created_at_utc
    if local.purged_at is not None and local.origin is Origin.BOT:
        name, phone = None, None  # retention removed them: do not bring them back here
    return ListRow(
        cid=local.id,
        status=status,
        patient_name=name,
        patient_phone=phone,
        doctor_name=doctor_name_of(cb, local),
        start_at=start or local.created_at,
        external=local.origin is Origin.EXTERNAL,
    )


async def mirror(
    repo: ConsultationRepository, items: Sequence[Callback]
) -> dict[str, Consultation]:
    """Local rows for a page of ``get-all``; unknown ones are recorded as external."""
    local = await repo.by_partner_ids(cb.id for cb in items)
    for cb in items:
        if cb.id in local:
            continue
        history = [s.created_at_utc for s in cb.statuses if s.created_at_utc is not None]
        status = cb.current_status.value
        row, _ = await repo.upsert_external(
            cb.id,
            doctor_id=cb.doctor_id,
            doctor_name=doctor_name_of(cb, None),
            patient_name=cb.patient_full_name,
            patient_phone=cb.patient_phone.e164 if cb.patient_phone is not None else None,
            last_status=None if status == "Unknown" else status,
            last_status_at=max(history) if history else None,
            created_at=cb.created_at_utc,
        )
        local[cb.id] = row
    return local


async def load_page(
    query: ListQuery,
    *,
    api: Any,
    session: AsyncSession,
    actor: Actor,
    t: Translator,
    page_size: int = PAGE_SIZE,
) -> PageResult:
    repo = ConsultationRepository(session)
    authorize(actor, Action.FIND if query.filter is ListFilter.FIND else Action.LIST)
    if actor.is_staff and query.filter not in (ListFilter.MINE, ListFilter.FIND):
        return await _from_api(query, api=api, repo=repo, t=t, page_size=page_size)
    return await _from_local(query, api=api, repo=repo, actor=actor, t=t, page_size=page_size)


async def _from_api(
    query: ListQuery, *, api: Any, repo: ConsultationRepository, t: Translator, page_size: int
) -> PageResult:
    try:
        page = await api.list_callbacks(
            statuses=statuses_for(query.filter.value),
            order="Status" if query.sort is SortKey.STATUS else "Created",
            asc=query.asc,
            limit=page_size,
            offset=query.page * page_size,
        )
    except PartnerApiError as exc:
        log.info("list_page_failed error=%s", type(exc).__name__)
        return PageResult(
            page=query.page, note=t("list-unavailable", reason=partner_error_text(t, exc))
        )
    total = page.total_count if page.total_count is not None else len(page.items)
    if not page.items and total and query.page != clamp_page(query.page, total, page_size):
        # The list shrank under the user (a stale position): show its last page instead.
        return await _from_api(
            ListQuery(
                query.filter, query.sort, query.asc, clamp_page(query.page, total, page_size)
            ),
            api=api,
            repo=repo,
            t=t,
            page_size=page_size,
        )
    local = await mirror(repo, page.items)
    rows = [make_row(local[cb.id], cb) for cb in page.items if cb.id in local]
    return PageResult(rows=rows, total=total, page=query.page)


async def _from_local(
    query: ListQuery,
    *,
    api: Any,
    repo: ConsultationRepository,
    actor: Actor,
    t: Translator,
    page_size: int,
) -> PageResult:
    page = max(query.page, 0)
    items, total = await _local_page(query, repo, actor, page, page_size)
    if not items and total and page != clamp_page(page, total, page_size):
        page = clamp_page(page, total, page_size)  # the list shrank under the user
        items, total = await _local_page(query, repo, actor, page, page_size)
    partner_ids = [c.partner_id for c in items if c.partner_id]
    fresh: dict[str, Callback] = {}
    note = None
    if partner_ids:
        try:
            fresh = {cb.id: cb for cb in await api.get_many(partner_ids)}
        except PartnerApiError as exc:
            log.info("list_page_refresh_failed error=%s", type(exc).__name__)
            note = t("list-stale-data")
    rows = [make_row(c, fresh.get(c.partner_id or "")) for c in items]
    return PageResult(rows=rows, total=total, page=page, note=note)


async def _local_page(
    query: ListQuery, repo: ConsultationRepository, actor: Actor, page: int, page_size: int
) -> tuple[list[Consultation], int]:
    order: Order = "status" if query.sort is SortKey.STATUS else "created"
    offset = page * page_size
    doctor_id = None if actor.is_staff else actor.doctor_id
    if not actor.is_staff and doctor_id is None:
        return [], 0  # a doctor account without a doctor id sees nothing
    if query.filter is ListFilter.FIND:
        return await repo.search(
            query.text or "", doctor_id=doctor_id, limit=page_size, offset=offset
        )
    if query.filter is ListFilter.MINE and actor.is_staff:
        return await repo.list_filtered(
            coordinator_id=actor.telegram_id,
            order=order,
            ascending=query.asc,
            limit=page_size,
            offset=offset,
        )
    assert doctor_id is not None
    return await repo.list_for_doctor(
        doctor_id,
        statuses=statuses_for(query.filter.value),
        order=order,
        ascending=query.asc,
        limit=page_size,
        offset=offset,
    )
