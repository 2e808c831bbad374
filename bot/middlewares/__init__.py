"""Middlewares and the order they run in (see ``setup_middlewares``).

Outer update middlewares, after aiogram's own ErrorsMiddleware, UserContextMiddleware
(``event_from_user``, ``event_chat``) and the metrics middleware:

1. ``UpdateTransactionMiddleware`` → ``session``; runs aiogram's FSM middleware (the user's
   lock, ``state``) inside it, and commits the update's work and its conversation state in
   one transaction at the end (rollback on error) — bot/middlewares/database.py
2. ``UserMiddleware`` → ``db_user`` (storage row or None), ``user`` (None = stranger)
3. ``LanguageMiddleware`` → ``t`` (Translator), ``lang`` ("ru"/"en"), ``tz`` (ZoneInfo)
4. ``GroupGuardMiddleware`` — groups: commands get a pointer to the private chat, the team
   chat gets nothing
5. ``AccessGateMiddleware`` → ``is_stranger``; strangers pass only with ``/start [code]``
   in a private chat.

No role flags on handlers: every action is authorized by the service it calls
(bot/services/access.py), against ``actor`` (set by ``UserMiddleware``). Conversation
state written by handlers (``state.set_state``…) and by aiogram-dialog is stored with the
update's own writes, in its one commit (bot/fsm_unit.py): no handler commits for it.
"""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.middlewares.access import (
    AccessGateMiddleware,
    UserMiddleware,
    answer_no_access,
    role_of,
)
from bot.middlewares.database import UpdateTransactionMiddleware
from bot.middlewares.group_guard import GroupGuardMiddleware
from bot.middlewares.i18n import LanguageMiddleware, user_zone

__all__ = [
    "AccessGateMiddleware",
    "GroupGuardMiddleware",
    "LanguageMiddleware",
    "UpdateTransactionMiddleware",
    "UserMiddleware",
    "answer_no_access",
    "role_of",
    "setup_middlewares",
    "user_zone",
]


def setup_middlewares(
    dp: Dispatcher,
    *,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    admin_ids: Collection[int],
    default_zone: ZoneInfo,
    team_chat_id: int | None,
) -> None:
    # aiogram's FSM middleware runs inside ours (the dispatcher has disable_fsm=True).
    dp.update.outer_middleware(UpdateTransactionMiddleware(session_factory, dp.fsm))
    dp.update.outer_middleware(UserMiddleware(admin_ids))
    dp.update.outer_middleware(LanguageMiddleware(i18n, default_zone))
    dp.update.outer_middleware(GroupGuardMiddleware(team_chat_id))
    dp.update.outer_middleware(AccessGateMiddleware())
