"""Who may talk to the bot.

* ``UserMiddleware`` (outer, update): loads the storage ``User`` by Telegram id into
  ``db_user`` and ``user`` (None = a stranger; revoking an account deletes its row).
  Ids in ADMIN_IDS are created/promoted to admin on their first update.
  Tracks ``my_chat_member`` in private chats: kicked → ``is_active=False``, member → True.
* ``AccessGateMiddleware`` (outer, update, after the language middleware): a stranger reaches
  handlers only with ``/start`` (with or without an invite code) in a private chat; anything
  else is answered here with ``access-no-access`` and their id. Sets ``is_stranger``.
  It also puts the update's ``actor`` (bot/services/access.py: the role stored now, and
  ADMIN_IDS) into the data: what every service authorizes against. There are no role
  flags on handlers: what a screen shows is never a permission.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.access import Actor
from bot.services.context import ACTOR_KEY
from storage.enums import Role
from storage.models import User as StoredUser
from storage.repositories.users import UserRepository

log = logging.getLogger(__name__)

STRANGER_COMMANDS = frozenset({"/start"})

Handler = NextMiddlewareType[TelegramObject]


class HasRole(Protocol):
    """What ``role_of`` reads: a storage ``User`` fits."""

    @property
    def role(self) -> Role | str: ...


def role_of(user: HasRole | None) -> str | None:
    """The role value of a storage user ("admin", "coordinator", "doctor") or None."""
    # Role is a StrEnum: str() is its value.
    return None if user is None else str(user.role)


async def _say(event: Message | CallbackQuery, text: str) -> None:
    # A press has no message of its own to reply with: it gets an alert.
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


async def answer_no_access(event: Message | CallbackQuery, t: Translator, user_id: int) -> None:
    """The stranger's answer; reusable by the access routers (e.g. a bare /start)."""
    await _say(event, t("access-no-access", user_id=str(user_id)))


def _is_stranger_command(message: Message) -> bool:
    text = message.text or ""
    if not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
    return command in STRANGER_COMMANDS


class UserMiddleware(BaseMiddleware):
    """Outer update middleware; needs ``session`` (runs after UpdateTransactionMiddleware)."""

    def __init__(self, admin_ids: Collection[int]) -> None:
        self.admin_ids = frozenset(admin_ids)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        db_user = None
        member = tg_user is not None and not tg_user.is_bot
        if tg_user is not None and member:
            session: AsyncSession = data["session"]
            db_user, ensured = await _load_user(session, tg_user, self.admin_ids)
            if ensured:
                # Once per id of ADMIN_IDS: committed at once, so SQLite's one write lock
                # is not held through the handler's partner and Telegram calls.
                await session.commit()
        data["db_user"] = db_user
        data["user"] = db_user
        if tg_user is not None and member:
            # What every service authorizes against: the role stored now, and ADMIN_IDS.
            data[ACTOR_KEY] = Actor.of(tg_user.id, db_user, self.admin_ids)
        result = await handler(event, data)
        if tg_user is not None and member and db_user is not None and _loaded(db_user):
            # After the handler: these rare writes (a new language code, a chat blocked or
            # back) go with the update's own at its end, in its one commit, instead of
            # taking SQLite's write lock for the whole handler. (A handler that rolled its
            # session back expired the row: the next update records them.)
            await _record_language(data["session"], db_user, tg_user)
            if isinstance(event, Update):
                _track_reachability(db_user, event, chat)
        if tg_user is not None and member and db_user is None:
            # A stranger who has just joined (an invite): their first pushes (a booking…)
            # come before their next update, so record the language on the new row now.
            # The update's session commits after this (UpdateTransactionMiddleware).
            joined = await UserRepository(data["session"]).get(tg_user.id)
            if joined is not None:
                await _record_language(data["session"], joined, tg_user)
        return result


def _loaded(db_user: StoredUser) -> bool:
    return not sa_inspect(db_user).expired_attributes


async def _record_language(session: AsyncSession, db_user: StoredUser, tg_user: User) -> None:
    """Pushes (notifications, reminders) follow the Telegram language until /language sets
    one, and are sent outside any update: keep the latest code on the row (written only
    when it changed)."""
    if await UserRepository(session).record_telegram_language(db_user, tg_user.language_code):
        log.info("user_telegram_language user_id=%s", db_user.telegram_id)


def _track_reachability(db_user: StoredUser, event: Update, chat: Chat | None) -> None:
    """``is_active`` means "the private chat is reachable" (revoking deletes the row)."""
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    if event.my_chat_member is not None:
        status = event.my_chat_member.new_chat_member.status
        active = status not in (ChatMemberStatus.KICKED, ChatMemberStatus.LEFT)
    elif event.message is not None or event.callback_query is not None:
        # The user writes to us, so the chat works again even if the unblock went unseen.
        active = True
    else:
        return
    if db_user.is_active != active:
        db_user.is_active = active
        log.info("user_reachability user_id=%s active=%s", db_user.telegram_id, active)


async def _load_user(
    session: AsyncSession, tg_user: User, admin_ids: frozenset[int]
) -> tuple[StoredUser | None, bool]:
    """The stored user as this update may act (None: no access), and whether it was
    written (an id of ADMIN_IDS made admin)."""
    repo = UserRepository(session)
    db_user = await repo.get(tg_user.id)
    if tg_user.id not in admin_ids:
        if db_user is not None and role_of(db_user) == Role.ADMIN.value:
            # Taken out of ADMIN_IDS: no admin rights, and no other role to fall back on,
            # so no access. The row is kept, not demoted: putting the id back (or a replica
            # still on the old ADMIN_IDS) restores the rights without losing zone/language,
            # and an invite link can still make them a coordinator or doctor.
            log.info("former_admin_refused user_id=%s", tg_user.id)
            return None, False
        return db_user, False
    if db_user is not None and role_of(db_user) == Role.ADMIN.value:
        return db_user, False
    # ADMIN_IDS is the operator's word: it outranks a role stored earlier.
    db_user = await repo.upsert(
        tg_user.id,
        Role.ADMIN,
        display_name=db_user.display_name if db_user else tg_user.full_name[:256],
    )
    log.info("admin_ensured user_id=%s", tg_user.id)
    return db_user, True


class AccessGateMiddleware(BaseMiddleware):
    """Outer update middleware; needs ``user`` and ``t``."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("user")
        data["is_stranger"] = user is None
        if user is not None or not isinstance(event, Update):
            return await handler(event, data)
        tg_user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if tg_user is None or tg_user.is_bot:
            return None
        t: Translator = data["t"]
        if event.message is not None:
            if (
                chat is not None
                and chat.type == ChatType.PRIVATE
                and _is_stranger_command(event.message)
            ):
                return await handler(event, data)
            await answer_no_access(event.message, t, tg_user.id)
            return None
        if event.callback_query is not None:
            await answer_no_access(event.callback_query, t, tg_user.id)
            return None
        # my_chat_member, edits, dialog background updates…: nothing to say to a stranger.
        return None
