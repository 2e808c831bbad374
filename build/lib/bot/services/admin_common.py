"""What the admin use cases (invites, users, doctors directory) share: the access check
at the moment of the action, paging, and the audit row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.access import Action, Actor, authorize, load_actor
from storage.db import utcnow
from storage.repositories.audit import AuditRepository

T = TypeVar("T")

Clock = Callable[[], datetime]


def default_clock() -> datetime:
    return utcnow()


async def authorized(
    session: AsyncSession, telegram_id: int, admin_ids: Collection[int], action: Action
) -> Actor:
    """The actor as the database and ADMIN_IDS show them now, or ``AccessDenied``.

    Read at every call, never taken from the screen: an admin button can be pressed after
    the presser was demoted, revoked or taken out of ADMIN_IDS, or be forged.
    """
    actor = await load_actor(session, telegram_id, admin_ids)
    authorize(actor, action)
    return actor


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """One page of a paged admin list; ``number`` clamped into range (0-based)."""

    rows: Sequence[T]
    number: int
    pages: int
    total: int


async def page_of(
    fetch: Callable[[int, int], Awaitable[tuple[Sequence[T], int]]], number: int, size: int
) -> Listing[T]:
    """Page ``number`` of ``fetch(limit, offset) -> (rows, total)``; a stale button may ask
    for a page that is gone since, so the number is clamped into range first."""
    _, total = await fetch(1, 0)
    pages = max(1, -(-total // size))
    number = min(max(number, 0), pages - 1)
    rows, total = await fetch(size, number * size)
    return Listing(rows, number, pages, total)


async def audit(session: AsyncSession, actor_id: int | None, action: str, target: str) -> None:
    """An audit row: ids only, never names."""
    await AuditRepository(session).add(actor_id, action, target)
