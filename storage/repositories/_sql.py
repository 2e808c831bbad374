"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

LIKE_ESCAPE = "\\"


def dialect_insert(
    session: AsyncSession, model: type[DeclarativeBase]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ON CONFLICT support for the dialect the session is bound to."""
    # Imported here: the engine has loaded its own dialect already, and the other one would
    # only cost memory (the PostgreSQL dialect is ~1 MiB of code a SQLite bot never runs).
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_ignore(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    conflict: Sequence[str],
) -> Any:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, same SQL shape on both dialects."""
    stmt = dialect_insert(session, model).values(**values)
    return stmt.on_conflict_do_nothing(index_elements=list(conflict))


def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    conflict: Sequence[str],
    update: dict[str, Any],
) -> Any:
    """INSERT … ON CONFLICT (conflict) DO UPDATE SET update."""
    stmt = dialect_insert(session, model).values(**values)
    return stmt.on_conflict_do_update(index_elements=list(conflict), set_=update)


def rowcount(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount


def escape_like(text: str) -> str:
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
