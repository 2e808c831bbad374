"""One database session, one transaction and one state unit per update.

``UpdateTransactionMiddleware`` is the first of ours (after the metrics middleware) and
runs aiogram's FSM middleware itself: the dispatcher is built with ``disable_fsm=True``
(bot/app/dispatcher.py), so the order is

    open the session and the update's ``StateUnit`` (bot/fsm_unit.py)
      → aiogram's lock of this user in this chat → the FSM state (the unit's first read;
        on SQL the same statement reads the user's row for UserMiddleware)
        → our other middlewares, the routers, aiogram-dialog
        → the unit stores what changed and the session commits: one commit
      → the lock is released
    → aiogram-dialog's stack lock, held back by the unit, is released.

So the state is stored, with the handler's work, before anything lets the next update of
this user in. On an error nothing is written: the session rolls back and the state stays
as it was. The session stays in ``data`` after a rollback so the error handler (which runs
outside, in aiogram's ErrorsMiddleware) can still read through it.
"""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_unit import StateUnit, bind_unit, unbind_unit

Handler = NextMiddlewareType[TelegramObject]


class UpdateTransactionMiddleware(BaseMiddleware):
    """Outer update middleware; injects ``session`` (and what aiogram's FSM middleware does:
    ``state``, ``raw_state``, ``fsm_storage``)."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], fsm: FSMContextMiddleware
    ) -> None:
        self.session_factory = session_factory
        self.fsm = fsm

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_factory() as session:
            data["session"] = session
            tg_user: User | None = data.get("event_from_user")
            member = tg_user is not None and not tg_user.is_bot
            unit = StateUnit(session, user_id=tg_user.id if member and tg_user else None)
            token = bind_unit(unit)

            async def handle_and_commit(event: TelegramObject, data: dict[str, Any]) -> Any:
                result = await handler(event, data)
                await unit.commit()
                return result

            try:
                return await self.fsm(handle_and_commit, event, data)
            except BaseException:
                await unit.rollback()
                raise
            finally:
                unbind_unit(token)
                await unit.release()
