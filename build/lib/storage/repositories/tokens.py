from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.models import PartnerToken
from storage.repositories._sql import insert_ignore, upsert

_ROW_ID = 1


class TokenPairLike(Protocol):
    """What `save` needs; api_client's TokenPair fits without storage importing it."""

    @property
    def access_token(self) -> str: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def expires_at(self) -> datetime | None: ...


class TokenRepository:
    """The partner API access/refresh pair: a single row."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self) -> PartnerToken | None:
        return await self.session.get(PartnerToken, _ROW_ID, populate_existing=True)

    async def save(self, pair: TokenPairLike, *, now: datetime | None = None) -> PartnerToken:
        now = now or utcnow()
        values = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_at": pair.expires_at,
            "updated_at": now,
        }
        await self.session.execute(
            upsert(self.session, PartnerToken, {"id": _ROW_ID, **values}, ["id"], values)
        )
        row = await self.get()
        assert row is not None
        return row

    async def store_if_absent(self, pair: TokenPairLike, *, now: datetime | None = None) -> bool:
        """Store ``pair`` unless a pair is stored already; True when this call stored it.

        For the pair from the environment: it must never overwrite one from partner-login or
        a refresh (the database's pair wins), and it gives a refresher a row to lock.
        """
        stored = await self.session.scalar(
            insert_ignore(
                self.session,
                PartnerToken,
                {
                    "id": _ROW_ID,
                    "access_token": pair.access_token,
                    "refresh_token": pair.refresh_token,
                    "expires_at": pair.expires_at,
                    "updated_at": now or utcnow(),
                },
                ["id"],
            ).returning(PartnerToken.id)
        )
        return stored is not None

    async def lock_for_refresh(self) -> PartnerToken | None:
        """The stored pair, locked until the caller's transaction ends.

        Read, refresh at the partner, `save`, commit: a second worker blocks here meanwhile
        and then reads the new pair, so a refresh token is never spent twice. PostgreSQL:
        `SELECT … FOR UPDATE`. SQLite has no row locks: a no-op UPDATE takes the database
        write lock first (pysqlite opens the transaction at the first write), which
        serialises the same way. None (and no lock) when nothing is stored yet.
        """
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(
                update(PartnerToken)
                .where(PartnerToken.id == _ROW_ID)
                .values(id=PartnerToken.id)
                .execution_options(synchronize_session=False)
            )
        row: PartnerToken | None = await self.session.scalar(
            select(PartnerToken)
            .where(PartnerToken.id == _ROW_ID)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return row
