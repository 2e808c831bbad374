from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, bindparam, case, func, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from storage.db import utcnow
from storage.enums import NotifyMode, Role
from storage.models import User
from storage.repositories._sql import rowcount, upsert

# Width of users.telegram_language; Telegram sends short IETF tags ("en", "pt-br").
TELEGRAM_LANGUAGE_MAX = 16
# users.digest_time of someone who turned the morning digest off.
DIGEST_OFF = "off"


# Built once. Session.get builds, annotates and cache-keys a new SELECT on every call: twice
# the CPU of running this one, and it runs on every update (bot/middlewares/access.py).
_BY_ID = select(User).where(User.telegram_id == bindparam("telegram_id"))
# session.info (``noted``): ids this session has read and found without a row; the rows it
# has read, held (the session's identity map only holds weakly what nobody else holds).
_ABSENT = "users_absent"
_HELD = "users_held"


def _digest_before(local_date: date) -> ColumnElement[bool]:
    """No digest settled yet for ``local_date`` (nor for a later one)."""
    return or_(User.digest_last_date.is_(None), User.digest_last_date < local_date)


class UserRepository:
    """Bot users (admins, coordinators, doctors). Strangers have no row."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, telegram_id: int) -> User | None:
        """As ``Session.get``: the session's own copy when it holds one (loaded, not
        expired), None when the session has read that there is none (``noted``), else one
        SELECT."""
        known = self.session.identity_map.get(identity_key(User, telegram_id))
        if known is not None and not inspect(known).expired_attributes:
            return known
        if telegram_id in self.session.info.get(_ABSENT, ()):
            return None
        result = await self.session.execute(_BY_ID, {"telegram_id": telegram_id})
        return result.scalar_one_or_none()

    def noted(self, telegram_id: int, user: User | None) -> None:
        """``user`` was read in this session by a statement of its own (with other rows:
        bot/fsm_storage.py): ``get`` answers from it instead of reading again (an absent
        row until ``upsert`` makes it)."""
        if user is None:
            self.session.info.setdefault(_ABSENT, set()).add(telegram_id)
        else:
            self.session.info.setdefault(_HELD, []).append(user)

    async def get_many(self, telegram_ids: Iterable[int]) -> dict[int, User]:
        ids = list(set(telegram_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(select(User).where(User.telegram_id.in_(ids)))
        return {u.telegram_id: u for u in rows}

    async def upsert(
        self,
        telegram_id: int,
        role: Role,
        *,
        display_name: str = "",
        doctor_id: int | None = None,
    ) -> User:
        """Create the user with this role, or give an existing one this role (and reactivate).

        Race-safe: two concurrent calls for one id end with one row.
        """
        now = utcnow()
        stmt = upsert(
            self.session,
            User,
            {
                "telegram_id": telegram_id,
                "role": role,
                "doctor_id": doctor_id,
                "display_name": display_name,
                "notify_mode": NotifyMode.ESSENTIALS,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            },
            ["telegram_id"],
            {
                "role": role,
                "doctor_id": doctor_id,
                "display_name": display_name,
                "is_active": True,
                "updated_at": now,
            },
        )
        await self.session.execute(stmt)
        self.session.info.get(_ABSENT, set()).discard(telegram_id)
        user = await self.session.get(User, telegram_id, populate_existing=True)
        assert user is not None
        return user

    create = upsert

    async def _set(self, telegram_id: int, **values: object) -> bool:
        result = await self.session.execute(
            update(User).where(User.telegram_id == telegram_id).values(**values)
        )
        return rowcount(result) > 0

    async def set_role(self, telegram_id: int, role: Role, doctor_id: int | None = None) -> bool:
        """A doctor keeps a doctor id; any other role drops it."""
        return await self._set(
            telegram_id, role=role, doctor_id=doctor_id if role is Role.DOCTOR else None
        )

    async def set_display_name(self, telegram_id: int, display_name: str) -> bool:
        return await self._set(telegram_id, display_name=display_name)

    async def deactivate(self, telegram_id: int) -> bool:
        """E.g. the user blocked the bot (403): keep the row, stop sending."""
        return await self._set(telegram_id, is_active=False)

    async def activate(self, telegram_id: int) -> bool:
        return await self._set(telegram_id, is_active=True)

    async def delete(self, telegram_id: int) -> bool:
        """Revoke access altogether (history keeps the bare id)."""
        user = await self.get(telegram_id)
        if user is None:
            return False
        await self.session.delete(user)
        await self.session.flush()
        return True

    async def set_language(self, telegram_id: int, language: str | None) -> bool:
        """None: follow the Telegram client's language again."""
        return await self._set(telegram_id, language=language)

    async def record_telegram_language(self, user: User, code: str | None) -> bool:
        """Remember the language_code Telegram sent with the user's latest update.

        Called on every update, so it writes only when the code changed (a compare on the
        row already loaded: no statement at all otherwise). None — Telegram did not say —
        keeps the last known code. True when the row was changed (flushed, not committed).
        """
        if not code:
            return False
        code = code.strip()[:TELEGRAM_LANGUAGE_MAX]
        if not code or user.telegram_language == code:
            return False
        user.telegram_language = code
        await self.session.flush()
        return True

    async def set_timezone(self, telegram_id: int, timezone: str | None) -> bool:
        return await self._set(telegram_id, timezone=timezone)

    async def set_notify_mode(self, telegram_id: int, mode: NotifyMode) -> bool:
        return await self._set(telegram_id, notify_mode=mode)

    # -- the morning digest (bot/services/digest_settings.py, bot/jobs/digest.py) ------------

    async def set_digest_time(
        self, telegram_id: int, value: str | None, *, settled_on: date | None = None
    ) -> bool:
        """``value``: "HH:MM", "off", or None (the role's default). ``settled_on``: a local
        date whose digest must not come any more (the time chosen had gone by that day)."""
        values: dict[str, object] = {"digest_time": value}
        if settled_on is not None:
            values["digest_last_date"] = case(
                (_digest_before(settled_on), settled_on), else_=User.digest_last_date
            )
        return await self._set(telegram_id, **values)

    async def digest_candidates(self) -> list[User]:
        """Active users whose digest is not turned off (a time, or the role's default)."""
        rows = await self.session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                or_(User.digest_time.is_(None), User.digest_time != DIGEST_OFF),
            )
            .order_by(User.telegram_id)
        )
        return list(rows)

    async def settle_digest(self, telegram_id: int, local_date: date) -> bool:
        """Mark ``local_date``'s digest as this user's; True only for the first caller (and
        never for a date not after the one already settled)."""
        result = await self.session.execute(
            update(User)
            .where(
                User.telegram_id == telegram_id,
                _digest_before(local_date),
            )
            .values(digest_last_date=local_date)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) > 0

    async def list_all(
        self, *, limit: int = 20, offset: int = 0, include_inactive: bool = True
    ) -> tuple[list[User], int]:
        """A page ordered by creation time, and the total count."""
        where = [] if include_inactive else [User.is_active.is_(True)]
        total = await self.session.scalar(select(func.count()).select_from(User).where(*where))
        rows = await self.session.scalars(
            select(User)
            .where(*where)
            .order_by(User.created_at, User.telegram_id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), int(total or 0)

    async def by_doctor_id(self, doctor_id: int) -> list[User]:
        """Active doctor accounts linked to this partner doctor id."""
        rows = await self.session.scalars(
            select(User)
            .where(
                User.doctor_id == doctor_id,
                User.role == Role.DOCTOR,
                User.is_active.is_(True),
            )
            .order_by(User.telegram_id)
        )
        return list(rows)

    async def by_doctor_ids(self, doctor_ids: Iterable[int]) -> dict[int, list[User]]:
        """`by_doctor_id` of many partner doctor ids in one query (an id with no account
        maps to an empty list)."""
        wanted = sorted(set(doctor_ids))
        found: dict[int, list[User]] = {i: [] for i in wanted}
        if not wanted:
            return found
        rows = await self.session.scalars(
            select(User)
            .where(
                User.doctor_id.in_(wanted),
                User.role == Role.DOCTOR,
                User.is_active.is_(True),
            )
            .order_by(User.telegram_id)
        )
        for user in rows:
            if user.doctor_id is not None:
                found[user.doctor_id].append(user)
        return found

    async def admins(self) -> list[User]:
        """Active users stored with the admin role (ADMIN_IDS itself is the bot's concern)."""
        rows = await self.session.scalars(
            select(User)
            .where(User.role == Role.ADMIN, User.is_active.is_(True))
            .order_by(User.telegram_id)
        )
        return list(rows)
