from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FsmRecord
from storage.repositories._sql import rowcount

# A path into a conversation's JSON data: ("lst_find",) or ("dialog_data", "q").
FieldPath = Sequence[str]


def _drop(data: dict[str, Any], path: FieldPath) -> bool:
    """Remove ``path`` from ``data``; True when something was there."""
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


class FsmRepository:
    """Housekeeping of the conversation-state table (``bot.fsm_storage.SqlStorage`` reads and
    writes it for aiogram)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def purge_idle(self, cutoff: datetime) -> int:
        """Delete conversations untouched since ``cutoff`` (an abandoned wizard holds the
        typed name and phone); the number deleted."""
        result = await self.session.execute(
            delete(FsmRecord)
            .where(FsmRecord.updated_at <= cutoff)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def clear_fields(self, paths: Collection[FieldPath]) -> int:
        """Remove the fields at ``paths`` from every conversation's data (the caller names
        them: storage does not know what a bot keeps where); the number of rows changed.

        ``updated_at`` stays: clearing is no activity, and must not keep an idle row from
        ``purge_idle``. Each write is conditional on the data read, so a conversation that
        moved on meanwhile is left as it now is rather than overwritten with the old data.
        """
        if not paths:
            return 0
        # A cheap pre-filter on the last key's JSON spelling; the JSON decides.
        names = {path[-1] for path in paths}
        rows = await self.session.execute(
            select(
                FsmRecord.bot_id,
                FsmRecord.chat_id,
                FsmRecord.user_id,
                FsmRecord.thread_id,
                FsmRecord.business_connection_id,
                FsmRecord.destiny,
                FsmRecord.data,
            ).where(
                or_(*(FsmRecord.data.contains(f'"{n}":', autoescape=True) for n in names))
            )
        )
        changed = 0
        for *key, raw in rows.all():
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            dropped = [_drop(data, path) for path in paths]
            if not any(dropped):
                continue
            encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            columns = ("bot_id", "chat_id", "user_id", "thread_id",
                       "business_connection_id", "destiny")
            result = await self.session.execute(
                update(FsmRecord)
                .where(
                    *(getattr(FsmRecord, c) == v for c, v in zip(columns, key, strict=True)),
                    FsmRecord.data == raw,
                )
                .values(data=encoded, updated_at=FsmRecord.updated_at)
                .execution_options(synchronize_session=False)
            )
            changed += rowcount(result)
        return changed
