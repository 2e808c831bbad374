"""One statement on the PostgreSQL server outside any transaction (CREATE/DROP DATABASE):
the throw-away databases of the replica tests."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def admin_sql(base_url: str, statement: str) -> None:
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()
