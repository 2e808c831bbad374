"""Invites: an admin creates a one-time code for a role; a stranger consumes it once.

The code is ``secrets.token_urlsafe``; only its sha256 is stored (InviteRepository), so the
database never holds a usable link. Making the link out of the code is Telegram's business
(the router's): this module knows no aiogram.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.access import Action
from bot.services.admin_common import (
    Clock,
    Listing,
    audit,
    authorized,
    default_clock,
    page_of,
)
from storage.enums import Role
from storage.models import DirectoryDoctor, Invite, User
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.invites import ConsumeStatus, InviteRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

CODE_BYTES = 24  # 32 characters: well under Telegram's 64 for a start parameter
CHOICES = 8  # doctor buttons on the invite screen


@dataclass(frozen=True, slots=True)
class CreatedInvite:
    code: str  # shown once, to the admin who asked; never stored
    role: Role
    doctor_id: int | None
    doctor_name: str | None  # from the directory, when the doctor is in it
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenInvite:
    """A line of /invites: never the code (only its hash is stored, and not shown either)."""

    id: int
    role: Role
    doctor_id: int | None
    doctor_name: str | None
    created_by: int
    creator_name: str | None  # the admin's Telegram name, when they have a user row
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Accepted:
    """A consumed invite: ``user`` is the new member, or None with ``status`` saying why."""

    status: ConsumeStatus
    user: User | None = None
    invite: Invite | None = None


class Invites:
    def __init__(
        self,
        session: AsyncSession,
        admin_ids: Collection[int],
        *,
        ttl: timedelta,
        clock: Clock = default_clock,
    ) -> None:
        self.session = session
        self.admin_ids = admin_ids
        self.ttl = ttl
        self.clock = clock

    async def check(self, telegram_id: int) -> None:
        """Refuse (``AccessDenied``) before a prompt is opened for someone who may not invite."""
        await authorized(self.session, telegram_id, self.admin_ids, Action.INVITE)

    async def doctor_choices(self, telegram_id: int) -> Sequence[DirectoryDoctor]:
        """The directory's doctors offered as buttons on the invite screen."""
        await self.check(telegram_id)
        doctors, _ = await DoctorDirectoryRepository(self.session).list_page(limit=CHOICES)
        return doctors

    async def create(
        self, telegram_id: int, role: Role, doctor_id: int | None = None
    ) -> CreatedInvite:
        await self.check(telegram_id)
        if role not in (Role.COORDINATOR, Role.DOCTOR):
            raise ValueError("an invite is for a coordinator or a doctor")
        if role is Role.DOCTOR and (doctor_id is None or doctor_id <= 0):
            raise ValueError("a doctor's invite names the doctor")
        doctor_id = doctor_id if role is Role.DOCTOR else None
        code = secrets.token_urlsafe(CODE_BYTES)
        invite = await InviteRepository(self.session).create(
            code,
            role,
            created_by=telegram_id,
            ttl=self.ttl,
            doctor_id=doctor_id,
            now=self.clock(),
        )
        await audit(
            self.session,
            telegram_id,
            "invite_created",
            f"invite:{invite.id} role:{role.value}" + (f" doctor:{doctor_id}" if doctor_id else ""),
        )
        log.info("invite_created admin_id=%s invite_id=%s role=%s", telegram_id, invite.id, role)
        name = None
        if doctor_id is not None:
            doctor = await DoctorDirectoryRepository(self.session).get(doctor_id)
            name = doctor.display_name if doctor is not None else None
        return CreatedInvite(code, role, doctor_id, name, invite.expires_at)


    async def open_page(self, telegram_id: int, number: int, size: int) -> Listing[OpenInvite]:
        """A page of the open invites (unused, unexpired), oldest first."""
        await self.check(telegram_id)
        now = self.clock()
        repo = InviteRepository(self.session)

        async def fetch(limit: int, offset: int) -> tuple[Sequence[OpenInvite], int]:
            rows, total = await repo.open_page(now=now, limit=limit, offset=offset)
            return await self._described(rows), total

        return await page_of(fetch, number, size)

    async def _described(self, rows: Sequence[Invite]) -> list[OpenInvite]:
        creators = await UserRepository(self.session).get_many(i.created_by for i in rows)
        doctors = await DoctorDirectoryRepository(self.session).get_many(
            i.doctor_id for i in rows if i.doctor_id is not None
        )
        described = []
        for invite in rows:
            creator = creators.get(invite.created_by)
            doctor = doctors.get(invite.doctor_id) if invite.doctor_id is not None else None
            described.append(
                OpenInvite(
                    id=invite.id,
                    role=Role(invite.role),
                    doctor_id=invite.doctor_id,
                    doctor_name=doctor.display_name if doctor is not None else None,
                    created_by=invite.created_by,
                    creator_name=(creator.display_name or None) if creator is not None else None,
                    expires_at=invite.expires_at,
                )
            )
        return described

    async def describe(self, telegram_id: int, invite_id: int) -> OpenInvite | None:
        """One open invite (for the confirmation), or None when it is used, expired or gone."""
        await self.check(telegram_id)
        invite = await self.session.get(Invite, invite_id)
        if invite is None or invite.used_at is not None or invite.expires_at <= self.clock():
            return None
        return (await self._described([invite]))[0]

    async def revoke(self, telegram_id: int, invite_id: int) -> bool:
        """Revoke an open invite: its link then answers like an unknown one. Idempotent:
        False (and nothing written) when it is used, expired or revoked already."""
        await self.check(telegram_id)
        revoked = await InviteRepository(self.session).revoke(invite_id, now=self.clock())
        if revoked:
            await audit(self.session, telegram_id, "invite_revoked", f"invite:{invite_id}")
            log.info("invite_revoked admin_id=%s invite_id=%s", telegram_id, invite_id)
        await self.session.commit()
        return revoked


async def accept_invite(
    session: AsyncSession,
    telegram_id: int,
    code: str,
    *,
    display_name: str,
    clock: Clock = default_clock,
) -> Accepted:
    """A stranger consumes ``code`` (exactly once, even under a race) and becomes a member.

    No access check: the invite is the grant. The caller makes sure ``telegram_id`` is not
    a member already (a member must not burn somebody else's invite). Committed here, so
    the role is granted even if a later send fails.
    """
    result = await InviteRepository(session).consume(code, telegram_id, now=clock())
    if not result.ok or result.invite is None:
        log.info("invite_refused user_id=%s status=%s", telegram_id, result.status.value)
        return Accepted(result.status)
    invite = result.invite
    joined = await UserRepository(session).upsert(
        telegram_id,
        Role(invite.role),
        display_name=display_name[:256],
        doctor_id=invite.doctor_id if invite.role == Role.DOCTOR else None,
    )
    await audit(session, telegram_id, "invite_accepted", f"invite:{invite.id} role:{invite.role}")
    log.info("invite_accepted user_id=%s invite_id=%s role=%s", telegram_id, invite.id, invite.role)
    await session.commit()
    return Accepted(result.status, joined, invite)
