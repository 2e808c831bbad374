from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict, Unpack

from sqlalchemy import ColumnElement, case, delete, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.enums import (
    CLOSED_STATES,
    FINAL_STATUSES,
    OPEN_STATES,
    STATUS_ORDER,
    ConsultationState,
    Origin,
)
from storage.hashing import hash_secret
from storage.models import Consultation, OutboxMessage
from storage.repositories._sql import LIKE_ESCAPE, chunks, escape_like, insert_ignore, rowcount

Order = Literal["created", "status"]

_PHONE_QUERY = re.compile(r"^[\d\s()+\-.]+$")
# Suffix length for phone search: the national number of most countries fits in 10 digits,
# so "8 909 …", "+7 909 …" and "909 …" all find "+79099708593".
_PHONE_SUFFIX_DIGITS = 10
_MIN_PHONE_DIGITS = 4
_PURGE_CHUNK = 500


def name_search_key(name: str) -> str:
    """What `patient_name_search` holds: casefolded, ё→е, single spaces."""
    return " ".join(name.casefold().replace("ё", "е").split())


class NewConsultation(TypedDict, total=False):
    """What the bot knows when it creates a consultation (all optional)."""

    doctor_name: str | None
    patient_name: str | None
    patient_phone: str | None
    begin_at: datetime | None
    duration_min: int | None
    attachment_name: str | None
    now: datetime | None


def _owned_by(doctor_id: int | None, coordinator_id: int | None) -> list[ColumnElement[bool]]:
    """The filters of a doctor's or a coordinator's own consultations (None: no filter)."""
    where: list[ColumnElement[bool]] = []
    if doctor_id is not None:
        where.append(Consultation.doctor_id == doctor_id)
    if coordinator_id is not None:
        where.append(Consultation.coordinator_id == coordinator_id)
    return where


@dataclass(frozen=True)
class PurgeCounts:
    consultations: int
    outbox_messages: int


class ConsultationRepository:
    """The local mirror of the partner's consultations."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- creation ---------------------------------------------------------------------------

    async def _create(
        self,
        token_plain: str,
        state: ConsultationState,
        *,
        coordinator_id: int | None,
        doctor_id: int | None,
        **details: Unpack[NewConsultation],
    ) -> Consultation:
        now = details.get("now") or utcnow()
        patient_name = details.get("patient_name")
        row = Consultation(
            token_hash=hash_secret(token_plain),
            state=state,
            origin=Origin.BOT,
            coordinator_id=coordinator_id,
            doctor_id=doctor_id,
            doctor_name=details.get("doctor_name"),
            patient_name=patient_name,
            patient_name_search=name_search_key(patient_name) if patient_name else None,
            patient_phone=details.get("patient_phone"),
            begin_at=details.get("begin_at"),
            duration_min=details.get("duration_min"),
            attachment_name=details.get("attachment_name"),
            needs_refresh=False,
            start_attempted_at=now if state is ConsultationState.STARTING else None,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def create_draft(
        self,
        token_plain: str,
        *,
        coordinator_id: int | None,
        doctor_id: int | None,
        **details: Unpack[NewConsultation],
    ) -> Consultation:
        return await self._create(
            token_plain,
            ConsultationState.DRAFT,
            coordinator_id=coordinator_id,
            doctor_id=doctor_id,
            **details,
        )

    async def create_starting(
        self,
        token_plain: str,
        *,
        coordinator_id: int | None,
        doctor_id: int | None,
        **details: Unpack[NewConsultation],
    ) -> Consultation:
        """The record to commit *before* calling start-callback (its token is in the URL)."""
        return await self._create(
            token_plain,
            ConsultationState.STARTING,
            coordinator_id=coordinator_id,
            doctor_id=doctor_id,
            **details,
        )

    async def upsert_external(
        self,
        partner_id: str,
        *,
        doctor_id: int | None = None,
        doctor_name: str | None = None,
        patient_name: str | None = None,
        patient_phone: str | None = None,
        begin_at: datetime | None = None,
        duration_min: int | None = None,
        last_status: str | None = None,
        last_status_at: datetime | None = None,
        created_at: datetime | None = None,
        now: datetime | None = None,
    ) -> tuple[Consultation, bool]:
        """Mirror a consultation started outside the bot; (row, created).

        An existing row keeps its origin; an external one gets its details refreshed, a
        bot-started one is left alone (the bot's own data wins). `last_status` is only set
        on creation: later changes go through StatusEventRepository.record.
        """
        now = now or utcnow()
        details: dict[str, Any] = {
            "doctor_id": doctor_id,
            "doctor_name": doctor_name,
            "patient_name": patient_name,
            "patient_name_search": name_search_key(patient_name) if patient_name else None,
            "patient_phone": patient_phone,
            "begin_at": begin_at,
            "duration_min": duration_min,
        }
        final = last_status in FINAL_STATUSES
        new_id = await self.session.scalar(
            insert_ignore(
                self.session,
                Consultation,
                {
                    "partner_id": partner_id,
                    "state": ConsultationState.FINAL if final else ConsultationState.ACTIVE,
                    "origin": Origin.EXTERNAL,
                    "last_status": last_status,
                    "last_status_at": last_status_at,
                    "last_seen_at": now,
                    "needs_refresh": False,
                    "created_at": created_at or now,
                    "updated_at": now,
                    **details,
                },
                ["partner_id"],
            ).returning(Consultation.id)
        )
        if new_id is not None:
            row = await self.session.get(Consultation, new_id, populate_existing=True)
            assert row is not None
            return row, True
        existing = await self.by_partner_id(partner_id)
        assert existing is not None
        if existing.origin is Origin.EXTERNAL and existing.purged_at is None:
            await self.session.execute(
                update(Consultation)
                .where(Consultation.id == existing.id)
                .values(last_seen_at=now, **details)
            )
            await self.session.refresh(existing)
        return existing, False

    # -- lookups ----------------------------------------------------------------------------

    async def get(self, consultation_id: int) -> Consultation | None:
        return await self.session.get(Consultation, consultation_id)

    async def get_many(self, ids: Iterable[int]) -> dict[int, Consultation]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(Consultation).where(Consultation.id.in_(wanted)))
        return {c.id: c for c in rows}

    async def by_token(self, token_plain: str) -> Consultation | None:
        row: Consultation | None = await self.session.scalar(
            select(Consultation).where(Consultation.token_hash == hash_secret(token_plain))
        )
        return row

    async def by_partner_id(self, partner_id: str) -> Consultation | None:
        row: Consultation | None = await self.session.scalar(
            select(Consultation).where(Consultation.partner_id == partner_id)
        )
        return row

    async def by_partner_ids(self, partner_ids: Iterable[str]) -> dict[str, Consultation]:
        """Partner id → local row, for marking a page of get-all (one query per page)."""
        wanted = list(set(partner_ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(
            select(Consultation).where(Consultation.partner_id.in_(wanted))
        )
        return {c.partner_id: c for c in rows if c.partner_id is not None}

    # -- state changes ----------------------------------------------------------------------

    async def _set(self, consultation_id: int, **values: Any) -> bool:
        result = await self.session.execute(
            update(Consultation).where(Consultation.id == consultation_id).values(**values)
        )
        return rowcount(result) > 0

    async def bind_partner_id(
        self,
        consultation_id: int,
        partner_id: str,
        *,
        state: ConsultationState = ConsultationState.ACTIVE,
        doctor_name: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Attach the partner's id once the start call answered (or reconcile found it).

        If a list page already mirrored the same partner id as an external row, that
        duplicate is dropped (its events are re-read at the next refresh). Returns False
        when the id belongs to another consultation started by the bot, or the row is gone.
        """
        now = now or utcnow()
        other = await self.by_partner_id(partner_id)
        if other is not None and other.id != consultation_id:
            if other.origin is not Origin.EXTERNAL:
                return False
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.consultation_id == other.id)
                .values(consultation_id=consultation_id)
            )
            await self.session.execute(
                delete(Consultation)
                .where(Consultation.id == other.id)
                .execution_options(synchronize_session="fetch")
            )
        values: dict[str, Any] = {"partner_id": partner_id, "state": state, "last_seen_at": now}
        if doctor_name is not None:
            values["doctor_name"] = doctor_name
        return await self._set(consultation_id, **values)

    async def set_state(
        self, consultation_id: int, state: ConsultationState, *, now: datetime | None = None
    ) -> bool:
        values: dict[str, Any] = {"state": state}
        if state is ConsultationState.STARTING:
            values["start_attempted_at"] = now or utcnow()
        return await self._set(consultation_id, **values)

    async def set_card(self, consultation_id: int, chat_id: int, message_id: int) -> bool:
        return await self._set(consultation_id, card_chat_id=chat_id, card_message_id=message_id)

    async def _set_many(self, ids: Iterable[int], **values: Any) -> int:
        wanted = list(set(ids))
        if not wanted:
            return 0
        result = await self.session.execute(
            update(Consultation)
            .where(Consultation.id.in_(wanted))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def mark_seen(self, ids: Iterable[int], now: datetime | None = None) -> int:
        """Record that these consultations were just fetched from the partner."""
        return await self._set_many(ids, last_seen_at=now or utcnow())

    # -- refresh queue (web-hook → worker) --------------------------------------------------

    async def mark_needs_refresh(self, token_plain: str) -> int | None:
        """The web-hook receiver's only write: flag the consultation; its id, or None."""
        found: int | None = await self.session.scalar(
            update(Consultation)
            .where(Consultation.token_hash == hash_secret(token_plain))
            .values(needs_refresh=True)
            .returning(Consultation.id)
            .execution_options(synchronize_session=False)
        )
        return found

    async def mark_needs_refresh_hashed(self, token_hashes: Iterable[str]) -> dict[str, int]:
        """`mark_needs_refresh` for many hits at once, by token hash: {hash: id} of the
        known ones (the receiver's group commit: one UPDATE and one commit per batch)."""
        found: dict[str, int] = {}
        for part in chunks(list(set(token_hashes)), 500):
            rows = await self.session.execute(
                update(Consultation)
                .where(Consultation.token_hash.in_(part))
                .values(needs_refresh=True)
                .returning(Consultation.token_hash, Consultation.id)
                .execution_options(synchronize_session=False)
            )
            found.update({token_hash: id_ for token_hash, id_ in rows if token_hash})
        return found

    async def request_refresh(self, ids: Iterable[int]) -> int:
        """Flag by id (e.g. put back what a failed worker run had taken)."""
        return await self._set_many(ids, needs_refresh=True)

    async def take_needing_refresh(self, limit: int = 100) -> list[int]:
        """Clear the flag and return the ids, atomically: many hits → one refresh.

        Rows locked by another worker are skipped on PostgreSQL; on SQLite the single
        UPDATE holds the write lock. Commit before the slow API calls; if they fail, hand
        the ids back with `request_refresh` (reconcile would catch them anyway).
        """
        pick = (
            select(Consultation.id)
            .where(Consultation.needs_refresh == true())
            .order_by(Consultation.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.session.scalars(
            update(Consultation)
            .where(Consultation.id.in_(pick.scalar_subquery()))
            .values(needs_refresh=False)
            .returning(Consultation.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(rows)

    # -- reconcile --------------------------------------------------------------------------

    async def non_final_batches(self, batch_size: int = 40) -> AsyncIterator[list[Consultation]]:
        """Open consultations with a partner id, in batches by ascending id (keyset)."""
        last_id = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(Consultation)
                    .where(
                        Consultation.id > last_id,
                        Consultation.partner_id.is_not(None),
                        Consultation.state.in_(OPEN_STATES),
                    )
                    .order_by(Consultation.id)
                    .limit(batch_size)
                )
            )
            if not rows:
                return
            yield rows
            if len(rows) < batch_size:
                return
            last_id = rows[-1].id

    async def list_in_state(
        self,
        state: ConsultationState,
        *,
        older_than: datetime | None = None,
        limit: int = 100,
    ) -> list[Consultation]:
        """E.g. `unknown` starts to settle, or `starting` ones stuck since a crash.

        `older_than` compares with the start attempt (or creation) time.
        """
        where: list[ColumnElement[bool]] = [Consultation.state == state]
        if older_than is not None:
            where.append(
                func.coalesce(Consultation.start_attempted_at, Consultation.created_at)
                <= older_than
            )
        rows = await self.session.scalars(
            select(Consultation).where(*where).order_by(Consultation.id).limit(limit)
        )
        return list(rows)

    async def active_or_unknown_by_phone(self, phone_e164: str) -> list[Consultation]:
        """Consultations of this phone that may still call the patient (starting, active,
        unknown): the wizard warns before a second call."""
        rows = await self.session.scalars(
            select(Consultation)
            .where(
                Consultation.patient_phone == phone_e164,
                Consultation.state.in_(OPEN_STATES),
            )
            .order_by(Consultation.id.desc())
        )
        return list(rows)

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

    # -- reminders --------------------------------------------------------------------------

    async def due_reminders(self, now: datetime, lead: timedelta) -> list[Consultation]:
        """Active consultations starting within `lead` that were not reminded yet."""
        rows = await self.session.scalars(
            select(Consultation)
            .where(
                Consultation.state == ConsultationState.ACTIVE,
                Consultation.reminder_sent_at.is_(None),
                Consultation.begin_at.is_not(None),
                Consultation.begin_at > now,
                Consultation.begin_at <= now + lead,
                or_(
                    Consultation.last_status.is_(None),
                    Consultation.last_status.not_in(FINAL_STATUSES),
                ),
            )
            .order_by(Consultation.begin_at, Consultation.id)
        )
        return list(rows)

    async def mark_reminded(self, consultation_id: int, now: datetime | None = None) -> bool:
        """True only for the first caller: a reminder goes out once."""
        done: int | None = await self.session.scalar(
            update(Consultation)
            .where(Consultation.id == consultation_id, Consultation.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now or utcnow())
            .returning(Consultation.id)
            .execution_options(synchronize_session=False)
        )
        return done is not None

    # -- retention --------------------------------------------------------------------------

    async def _purge(self, ids: Sequence[int], now: datetime) -> PurgeCounts:
        consultations = outbox = 0
        for part in chunks(ids, _PURGE_CHUNK):
            result = await self.session.execute(
                update(Consultation)
                .where(Consultation.id.in_(part), Consultation.purged_at.is_(None))
                .values(
                    patient_name=None,
                    patient_name_search=None,
                    patient_phone=None,
                    attachment_name=None,
                    purged_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            consultations += rowcount(result)
            # Messages not sent by now never will be: they would carry purged data.
            await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.consultation_id.in_(part),
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.dead == false(),
                )
                .values(dead=True, failed_at=now, last_error="purged by retention")
                .execution_options(synchronize_session=False)
            )
            result = await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.consultation_id.in_(part),
                    or_(OutboxMessage.text.is_not(None), OutboxMessage.reply_markup.is_not(None)),
                )
                .values(text=None, reply_markup=None)
                .execution_options(synchronize_session=False)
            )
            outbox += rowcount(result)
        # Objects already loaded in this session must not keep showing the removed data.
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, Consultation | OutboxMessage):
                self.session.expire(obj)
        return PurgeCounts(consultations, outbox)

    async def _purge_where(self, now: datetime, *where: ColumnElement[bool]) -> PurgeCounts:
        """Purge the not yet purged consultations matching ``where``."""
        ids = list(
            await self.session.scalars(
                select(Consultation.id).where(Consultation.purged_at.is_(None), *where)
            )
        )
        return await self._purge(ids, now)

    async def purge_final_older_than(self, now: datetime, retention: timedelta) -> PurgeCounts:
        """Remove patient data (name, phone, attachment name, outbox texts) of consultations
        final for longer than `retention`; ids, states and statuses stay."""
        cutoff = now - retention
        return await self._purge_where(
            now,
            Consultation.state.in_(CLOSED_STATES),
            func.coalesce(Consultation.last_status_at, Consultation.updated_at) <= cutoff,
        )

    async def purge_abandoned(self, now: datetime, age: timedelta) -> PurgeCounts:
        """The same for drafts and starts that never got a partner id, once `age` old."""
        cutoff = now - age
        return await self._purge_where(
            now,
            Consultation.partner_id.is_(None),
            Consultation.state.in_(
                [
                    ConsultationState.DRAFT,
                    ConsultationState.STARTING,
                    ConsultationState.UNKNOWN,
                    ConsultationState.FAILED,
                ]
            ),
            Consultation.created_at <= cutoff,
        )
