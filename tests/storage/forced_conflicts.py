"""Forced database conflicts for the tests of the retry path (no database needed)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


class _PgError(Exception):
    """What asyncpg's adapted errors carry: the SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def pg_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE consultations SET last_seen_at=…", None, _PgError(sqlstate))


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
