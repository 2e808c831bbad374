"""One database session per update: committed on success, rolled back on error."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Handler = NextMiddlewareType[TelegramObject]


class DbSessionMiddleware(BaseMiddleware):
    """Outer update middleware; injects ``session``.

    The session stays in ``data`` after a rollback so the error handler (which runs outside
    this middleware, in aiogram's ErrorsMiddleware) can still read through it.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_factory() as session:
            data["session"] = session
            try:
                result = await handler(event, data)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            return result


class CommitBeforeStateSaveMiddleware(BaseMiddleware):
    """Inner middleware, registered last (after ``setup_dialogs``): commits the update's
    session as soon as the handler returns.

    The FSM storage and aiogram-dialog's context saver write through their own connections
    right after the handler; on SQLite a write transaction still open on the update's
    session would block them until the busy timeout. Committing here keeps "the handler's
    work, then the state" in that order and frees the lock. On an exception nothing is
    committed (the outer middleware rolls back).
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        session: AsyncSession | None = data.get("session")
        if session is not None:
            await session.commit()
        return result
