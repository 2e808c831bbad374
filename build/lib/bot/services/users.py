"""/users as use cases: list the accounts, open one, change a role, revoke.

Revoking deletes the user's row (the runtime's convention: ``is_active`` only means "their
private chat is reachable"), so the next message from them meets the stranger's answer; the
audit log keeps the bare id. Every call checks ``MANAGE_USERS`` against the presser's role
as stored now; resetting the target's command menu is Telegram's business (the router's).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.access import Action
from bot.services.admin_common import Listing, audit, authorized, page_of
from storage.enums import Role
from storage.models import DirectoryDoctor, User
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

CHOICES = 8  # doctor buttons offered when making someone a doctor


class Refusal(StrEnum):
    """Why a change of this target is not made (the presser may manage users)."""

    GONE = "gone"  # revoked (or never existed) since the screen was drawn
    SELF = "self"  # an admin does not demote or revoke themself
    CONFIG_ADMIN = "config_admin"  # ADMIN_IDS decides about these, not /users


class TargetRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Revoked:
    telegram_id: int
    display_name: str | None  # for the admin's confirmation only; never logged


class Users:
    def __init__(self, session: AsyncSession, admin_ids: Collection[int]) -> None:
        self.session = session
        self.admin_ids = admin_ids
        self.repo = UserRepository(session)

    async def check(self, telegram_id: int) -> None:
        """``AccessDenied`` unless the presser may manage users now."""
        await authorized(self.session, telegram_id, self.admin_ids, Action.MANAGE_USERS)

    def is_config_admin(self, user: User) -> bool:
        return user.telegram_id in self.admin_ids

    async def page(self, telegram_id: int, number: int, size: int) -> Listing[User]:
        await self.check(telegram_id)

        async def fetch(limit: int, offset: int) -> tuple[Sequence[User], int]:
            return await self.repo.list_all(limit=limit, offset=offset)

        return await page_of(fetch, number, size)

    async def open(self, telegram_id: int, target_id: int) -> User:
        await self.check(telegram_id)
        target = await self.repo.get(target_id)
        if target is None:
            raise TargetRefused(Refusal.GONE)
        return target

    async def changeable(self, telegram_id: int, target_id: int) -> User:
        """The target of a change (role, revoke), or ``TargetRefused``."""
        target = await self.open(telegram_id, target_id)
        if target.telegram_id == telegram_id:
            raise TargetRefused(Refusal.SELF)
        if self.is_config_admin(target):
            raise TargetRefused(Refusal.CONFIG_ADMIN)
        return target

    async def doctor_choices(
        self, telegram_id: int, target_id: int
    ) -> tuple[User, Sequence[DirectoryDoctor]]:
        """Before "which doctor?": the target, and the directory's doctors as buttons."""
        target = await self.changeable(telegram_id, target_id)
        doctors, _ = await DoctorDirectoryRepository(self.session).list_page(limit=CHOICES)
        return target, doctors

    async def set_role(
        self, telegram_id: int, target_id: int, role: Role, doctor_id: int | None = None
    ) -> User:
        """Make the target a coordinator, or the accounts of doctor ``doctor_id``."""
        if role not in (Role.COORDINATOR, Role.DOCTOR):
            raise ValueError("/users makes coordinators and doctors; ADMIN_IDS makes admins")
        if role is Role.DOCTOR and (doctor_id is None or doctor_id <= 0):
            raise ValueError("a doctor's account names the doctor")
        target = await self.changeable(telegram_id, target_id)
        doctor_id = doctor_id if role is Role.DOCTOR else None
        await self.repo.set_role(target.telegram_id, role, doctor_id)
        await self.session.refresh(target)
        described = f"user:{target.telegram_id} role:{role.value}"
        if doctor_id:
            described += f" doctor:{doctor_id}"
        await audit(self.session, telegram_id, "user_role_changed", described)
        log.info(
            "user_role_changed admin_id=%s user_id=%s role=%s",
            telegram_id,
            target.telegram_id,
            role.value,
        )
        # Committed now: the change must hold even if the menu update or the answer fails.
        await self.session.commit()
        return target

    async def revoke(self, telegram_id: int, target_id: int) -> Revoked:
        target = await self.changeable(telegram_id, target_id)
        revoked = Revoked(target.telegram_id, target.display_name)
        await self.repo.delete(target.telegram_id)
        await audit(self.session, telegram_id, "user_revoked", f"user:{target.telegram_id}")
        log.info("user_revoked admin_id=%s user_id=%s", telegram_id, target.telegram_id)
        await self.session.commit()
        return revoked
