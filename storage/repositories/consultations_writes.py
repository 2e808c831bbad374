"""Writing consultations: creation (drafts, starts, rows mirrored from the partner),
state changes, the web-hook's refresh queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import delete, select, true, update

from storage.db import utcnow
from storage.enums import FINAL_STATUSES, ConsultationState, Origin
from storage.hashing import hash_secret
from storage.models import Consultation, OutboxMessage
from storage.repositories._sql import chunks, insert_ignore
from storage.repositories.consultations_base import rows_in_id_order
from storage.repositories.consultations_lookups import ConsultationLookups
from storage.repositories.consultations_search import name_search_key


class NewConsultation(TypedDict, total=False):
    """What the bot knows when it creates a consultation (all optional)."""

    doctor_name: str | None
    patient_name: str | None
    patient_phone: str | None
    begin_at: datetime | None
    duration_min: int | None
    attachment_name: str | None
    wizard_draft: str | None
    now: datetime | None


class ConsultationWrites(ConsultationLookups):
    """Creation and every change of a consultation's row."""

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
            wizard_draft=details.get("wizard_draft"),
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

    # -- state changes ----------------------------------------------------------------------

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

    async def find_by_token_hashes(self, token_hashes: Iterable[str]) -> dict[str, int]:
        """{hash: id} of the known tokens, by a plain SELECT: the receiver answers a guess
        from this read and never opens a write transaction for it."""
        found: dict[str, int] = {}
        for part in chunks(list(set(token_hashes)), 500):
            rows = await self.session.execute(
                select(Consultation.token_hash, Consultation.id).where(
                    Consultation.token_hash.in_(part)
                )
            )
            found.update({token_hash: id_ for token_hash, id_ in rows if token_hash})
        return found

    async def mark_needs_refresh_hashed(self, token_hashes: Iterable[str]) -> dict[str, int]:
        """`mark_needs_refresh` for many hits at once, by token hash: {hash: id} of the
        known ones (the receiver's group commit: one UPDATE and one commit per batch)."""
        found: dict[str, int] = {}
        for part in chunks(list(set(token_hashes)), 500):
            rows = await self.session.execute(
                update(Consultation)
                .where(rows_in_id_order(self.session, Consultation.token_hash.in_(part)))
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
