"""Reading consultations: by id, token or partner id, and the reconcile/recovery queries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, func, select

from storage.enums import OPEN_STATES, ConsultationState
from storage.hashing import hash_secret
from storage.models import Consultation
from storage.repositories._sql import chunks
from storage.repositories.consultations_base import ConsultationRepositoryBase

# Built once: the wizard's phone step runs it on every phone typed.
_OPEN_BY_PHONE = (
    select(Consultation)
    .where(Consultation.patient_phone == bindparam("phone"), Consultation.state.in_(OPEN_STATES))
    .order_by(Consultation.id.desc())
)


class ConsultationLookups(ConsultationRepositoryBase):
    """Single rows and the batches reconcile and start recovery walk through."""

    # -- lookups ----------------------------------------------------------------------------

    async def get(self, consultation_id: int) -> Consultation | None:
        return await self.session.get(Consultation, consultation_id)

    async def get_many(self, ids: Iterable[int]) -> dict[int, Consultation]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(Consultation).where(Consultation.id.in_(wanted)))
        return {c.id: c for c in rows}

    async def lock_many(self, ids: Iterable[int]) -> list[Consultation]:
        """These rows, read afresh and locked until the transaction ends, in ascending id
        order (see ``rows_in_id_order``): a transaction that writes several consultations
        (their status events and messages too) takes their rows first, with this."""
        found: list[Consultation] = []
        for part in chunks(sorted(set(ids)), 500):
            rows = await self.session.scalars(
                select(Consultation)
                .where(Consultation.id.in_(part))
                .order_by(Consultation.id)
                .with_for_update(key_share=True)
                .execution_options(populate_existing=True)
            )
            found += rows
        return found

    async def partner_ids(self, ids: Iterable[int]) -> dict[int, str]:
        """Local id → partner id of those of `ids` that have one (what to fetch)."""
        found: dict[int, str] = {}
        for part in chunks(sorted(set(ids)), 500):
            rows = await self.session.execute(
                select(Consultation.id, Consultation.partner_id).where(
                    Consultation.id.in_(part), Consultation.partner_id.is_not(None)
                )
            )
            found.update({id_: partner_id for id_, partner_id in rows if partner_id})
        return found

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

    async def open_partner_ids(self) -> list[tuple[int, str]]:
        """(id, partner id) of every open consultation with a partner id, by ascending id:
        the whole list reconcile walks, in one query (its rows are read under lock later)."""
        rows = await self.session.execute(
            select(Consultation.id, Consultation.partner_id)
            .where(
                Consultation.partner_id.is_not(None),
                Consultation.state.in_(OPEN_STATES),
            )
            .order_by(Consultation.id)
        )
        return [(id_, partner_id) for id_, partner_id in rows if partner_id]

    async def by_wizard_draft(self, draft: str) -> Consultation | None:
        """The newest start of a wizard run that is not a refused one (see ``wizard_draft``)."""
        found: Consultation | None = await self.session.scalar(
            select(Consultation)
            .where(
                Consultation.wizard_draft == draft,
                Consultation.state != ConsultationState.FAILED,
            )
            .order_by(Consultation.id.desc())
            .limit(1)
        )
        return found

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
        rows = await self.session.scalars(_OPEN_BY_PHONE, {"phone": phone_e164})
        return list(rows)
