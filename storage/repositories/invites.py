from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.enums import Role
from storage.hashing import hash_secret
from storage.models import Invite


class ConsumeStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class ConsumeResult:
    status: ConsumeStatus
    invite: Invite | None = None

    @property
    def ok(self) -> bool:
        return self.status is ConsumeStatus.OK


class InviteRepository:
    """One-time invite codes; only their sha256 is stored."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        code_plain: str,
        role: Role,
        *,
        created_by: int,
        ttl: timedelta,
        doctor_id: int | None = None,
        now: datetime | None = None,
    ) -> Invite:
        now = now or utcnow()
        invite = Invite(
            code_hash=hash_secret(code_plain),
            role=role,
            doctor_id=doctor_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + ttl,
        )
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def get_by_code(self, code_plain: str) -> Invite | None:
        stmt = select(Invite).where(Invite.code_hash == hash_secret(code_plain))
        invite: Invite | None = await self.session.scalar(stmt)
        return invite

    async def consume(
        self, code_plain: str, user_id: int, now: datetime | None = None
    ) -> ConsumeResult:
        """Use the code exactly once, even when two users (or two taps) race for it.

        A conditional UPDATE decides: only the statement that finds `used_at IS NULL` wins;
        the loser's UPDATE waits for the winner's row lock (PostgreSQL) or write lock
        (SQLite) and then matches nothing.
        """
        now = now or utcnow()
        code_hash = hash_secret(code_plain)
        won = await self.session.scalar(
            update(Invite)
            .where(
                Invite.code_hash == code_hash,
                Invite.used_at.is_(None),
                Invite.expires_at > now,
            )
            .values(used_by=user_id, used_at=now)
            .returning(Invite.id)
            .execution_options(synchronize_session=False)
        )
        if won is not None:
            invite = await self.session.get(Invite, won, populate_existing=True)
            return ConsumeResult(ConsumeStatus.OK, invite)
        invite = await self.session.scalar(
            select(Invite)
            .where(Invite.code_hash == code_hash)
            .execution_options(populate_existing=True)
        )
        if invite is None:
            return ConsumeResult(ConsumeStatus.UNKNOWN)
        if invite.used_at is not None:
            return ConsumeResult(ConsumeStatus.USED, invite)
        return ConsumeResult(ConsumeStatus.EXPIRED, invite)

    async def list_pending(self, now: datetime | None = None) -> list[Invite]:
        now = now or utcnow()
        rows = await self.session.scalars(
            select(Invite)
            .where(Invite.used_at.is_(None), Invite.expires_at > now)
            .order_by(Invite.created_at, Invite.id)
        )
        return list(rows)

    async def open_page(
        self, *, now: datetime | None = None, limit: int = 10, offset: int = 0
    ) -> tuple[list[Invite], int]:
        """A page of the open invites (unused, unexpired), oldest first, and their count."""
        now = now or utcnow()
        open_ = (Invite.used_at.is_(None), Invite.expires_at > now)
        total = await self.session.scalar(select(func.count()).select_from(Invite).where(*open_))
        rows = await self.session.scalars(
            select(Invite).where(*open_).order_by(Invite.created_at, Invite.id)
            .limit(limit).offset(offset)
        )
        return list(rows), int(total or 0)

    async def revoke(self, invite_id: int, now: datetime | None = None) -> bool:
        """Delete an open invite, so its link answers like one that never existed; False
        when it is used, expired or gone already (revoking twice is harmless).

        A conditional DELETE, like ``consume``'s UPDATE: of a revoke and an acceptance
        racing for one invite, exactly one wins.
        """
        now = now or utcnow()
        revoked = await self.session.scalar(
            delete(Invite)
            .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at > now)
            .returning(Invite.id)
            .execution_options(synchronize_session=False)
        )
        return revoked is not None
