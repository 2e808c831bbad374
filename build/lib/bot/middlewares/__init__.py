"""Middlewares and the order they run in (see ``setup_middlewares``).

Outer update middlewares, after aiogram's own ErrorsMiddleware, UserContextMiddleware
(``event_from_user``, ``event_chat``) and FSM middleware:

1. ``DbSessionMiddleware`` → ``session`` (commit on success, rollback on error)
2. ``UserMiddleware`` → ``db_user`` (storage row or None), ``user`` (None = stranger)
3. ``LanguageMiddleware`` → ``t`` (Translator), ``lang`` ("ru"/"en"), ``tz`` (ZoneInfo)
4. ``GroupGuardMiddleware`` — groups: commands get a pointer to the private chat, the team
   chat gets nothing
5. ``AccessGateMiddleware`` → ``is_stranger``; strangers pass only with ``/start [code]``
   in a private chat.

Inner middleware on message and callback_query: ``RoleFlagMiddleware`` enforcing handler
flags ``flags={"roles": {"coordinator", "admin"}}``; and, registered after
``setup_dialogs``, ``CommitBeforeStateSaveMiddleware`` (commit the update's session when the
handler returns, before FSM/dialog state is written through another connection).
Handlers that write through ``session`` and then call ``state.set_state`` themselves must
``await session.commit()`` first (SQLite has one writer).
"""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.middlewares.access import (
    AccessGateMiddleware,
    RoleFlagMiddleware,
    UserMiddleware,
    answer_forbidden,
    answer_no_access,
    has_role,
    role_of,
)
from bot.middlewares.database import CommitBeforeStateSaveMiddleware, DbSessionMiddleware
from bot.middlewares.group_guard import GroupGuardMiddleware
from bot.middlewares.i18n import LanguageMiddleware, user_zone

__all__ = [
    "AccessGateMiddleware",
    "CommitBeforeStateSaveMiddleware",
    "DbSessionMiddleware",
    "GroupGuardMiddleware",
    "LanguageMiddleware",
    "RoleFlagMiddleware",
    "UserMiddleware",
    "answer_forbidden",
    "answer_no_access",
    "has_role",
    "role_of",
    "setup_commit_before_state_save",
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
    dp.update.outer_middleware(DbSessionMiddleware(session_factory))
    dp.update.outer_middleware(UserMiddleware(admin_ids))
    dp.update.outer_middleware(LanguageMiddleware(i18n, default_zone))
    dp.update.outer_middleware(GroupGuardMiddleware(team_chat_id))
    dp.update.outer_middleware(AccessGateMiddleware())
    role_flags = RoleFlagMiddleware()
    dp.message.middleware(role_flags)
    dp.callback_query.middleware(role_flags)
    dp.edited_message.middleware(role_flags)


def setup_commit_before_state_save(dp: Dispatcher) -> None:
    """Call after ``setup_dialogs(dp)`` so it is the innermost middleware."""
    from aiogram_dialog.api.entities import DIALOG_EVENT_NAME

    commit = CommitBeforeStateSaveMiddleware()
    for name in (
        "message", "edited_message", "callback_query", "my_chat_member", "business_message",
        "chat_join_request", DIALOG_EVENT_NAME,
    ):
        observer = dp.observers.get(name)
        if observer is not None:
            observer.middleware(commit)
