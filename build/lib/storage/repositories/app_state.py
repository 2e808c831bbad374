from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.models import AppState
from storage.repositories._sql import upsert


def chat_migrated_key(old_chat_id: int) -> str:
    """Where a group's new id (after its migration to a supergroup) is kept."""
    return f"chat_migrated:{old_chat_id}"


class AppStateRepository:
    """Key-value facts the bot keeps across restarts (``app_state``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> str | None:
        row = await self.session.get(AppState, key, populate_existing=True)
        return row.value if row is not None else None

    async def set(self, key: str, value: str) -> None:
        """Insert or replace (race-safe: two writers end with one row, the last value)."""
        now = utcnow()
        await self.session.execute(
            upsert(
                self.session,
                AppState,
                {"key": key, "value": value, "updated_at": now},
                ["key"],
                {"value": value, "updated_at": now},
            )
        )

    async def migrated_chat(self, chat_id: int, *, max_hops: int = 8) -> int:
        """Where messages for ``chat_id`` go now: follows stored migrations (a group can
        migrate once, but an operator may point TEAM_CHAT_ID at an id that later moved)."""
        current, seen = chat_id, {chat_id}
        for _ in range(max_hops):
            value = await self.get(chat_migrated_key(current))
            if value is None:
                break
            nxt = int(value)
            if nxt in seen:
                break
            seen.add(nxt)
            current = nxt
        return current
