"""One place for errors (``dp.errors``): users get an explanation, never silence.

* A dialog lost in a restart or upgrade (``UnknownIntent``/``OutdatedIntent``/``UnknownState``)
  → the dialog stack is reset, the user gets a short explanation and the help.
* A refusal of the access policy (``AccessDenied``, raised by a service) → one short
  sentence (bot/rendering/access_denied.py); an open dialog is closed, as what it was
  for is no longer this user's to do. Logged at INFO with ids only.
* "message is not modified" → ignored (an edit with identical content is a success).
* Anything else → logged with update/user/chat ids and the code locations (never the
  exception message or any text: those can carry patient data) and answered with an apology.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent
from aiogram_dialog import DialogManager
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.dialogs import answered as answered_queries
from bot.i18n import I18n, Translator
from bot.rendering.access_denied import denied_text
from bot.routers.fallback import help_text
from bot.services.access import AccessDenied

log = logging.getLogger(__name__)


def is_not_modified(exc: BaseException) -> bool:
    return isinstance(exc, TelegramBadRequest) and "message is not modified" in exc.message


def event_ids(event: ErrorEvent) -> tuple[int, int | None, int | None]:
    update = event.update
    user_id: int | None = None
    chat_id: int | None = None
    inner: Any = update.event if update.event_type != "update" else None
    user = getattr(inner, "from_user", None)
    if user is not None:
        user_id = user.id
    chat = getattr(inner, "chat", None)
    if chat is None and getattr(inner, "message", None) is not None:
        chat = inner.message.chat
    if chat is not None:
        chat_id = chat.id
    return update.update_id, user_id, chat_id


def _where(exc: BaseException) -> str:
    """Code locations of the traceback, innermost last, without any values."""
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    return " <- ".join(f"{f.name}@{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in frames[::-1])


def _translator(data: dict[str, Any]) -> Translator:
    t = data.get("t")
    if isinstance(t, Translator):
        return t
    i18n = data.get("i18n")
    if not isinstance(i18n, I18n):
        i18n = I18n()
    return i18n.translator(None)


async def _answer_query(query: CallbackQuery, text: str, data: dict[str, Any]) -> bool:
    """Show ``text`` as the press's alert; False when the query can no longer carry it."""
    answered = data.get(answered_queries.KEY)
    if isinstance(answered, answered_queries.AnsweredQueries) and answered.consume(query.id):
        return False  # answered early (bot/dialogs/answered.py): a second answer is refused
    try:
        await query.answer(text, show_alert=True)
    except TelegramAPIError:  # answered by the handler itself, or too old
        return False
    return True


async def _tell(
    event: ErrorEvent, text: str, data: dict[str, Any], *, alert: str | None = None
) -> None:
    update = event.update
    query = update.callback_query
    if query is not None:
        if await _answer_query(query, alert or text, data) and alert is None:
            return
        # The alert could not be shown (or there is more to say): a chat message, never
        # silence. The press's own chat, else the user's private chat.
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        with contextlib.suppress(TelegramAPIError):
            if query.bot is not None:
                await query.bot.send_message(chat_id, text)
    elif update.message is not None:
        with contextlib.suppress(TelegramAPIError):
            await update.message.answer(text)


def setup() -> Router:
    router = Router(name="errors")

    @router.errors(ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState))
    async def on_lost_dialog(event: ErrorEvent, **data: Any) -> None:
        t = _translator(data)
        update_id, user_id, chat_id = event_ids(event)
        log.info(
            "dialog_lost update_id=%s user_id=%s chat_id=%s error=%s",
            update_id,
            user_id,
            chat_id,
            type(event.exception).__name__,
        )
        manager: DialogManager | None = data.get("dialog_manager")
        if manager is not None:
            with contextlib.suppress(Exception):
                await manager.reset_stack()
        text = f"{t('error-stale-dialog')}\n\n{help_text(t, data.get('user'))}"
        await _tell(event, text, data, alert=t("error-stale-button"))

    @router.errors(ExceptionTypeFilter(AccessDenied))
    async def on_denied(event: ErrorEvent, **data: Any) -> None:
        exc = event.exception
        assert isinstance(exc, AccessDenied)
        update_id, user_id, _chat_id = event_ids(event)
        log.info(
            "access_denied update_id=%s user_id=%s action=%s reason=%s",
            update_id, user_id, exc.action.value, exc.reason.value,
        )
        manager: DialogManager | None = data.get("dialog_manager")
        if manager is not None and manager.has_context():
            with contextlib.suppress(Exception):
                await manager.reset_stack()
        role = exc.actor.role.value if exc.actor.role is not None else None
        text = denied_text(
            _translator(data),
            reason=exc.reason.value,
            action=exc.action.value,
            role=role,
            user_id=exc.actor.telegram_id,
        )
        await _tell(event, text, data)

    @router.errors(ExceptionTypeFilter(TelegramBadRequest))
    async def on_bad_request(event: ErrorEvent, **data: Any) -> Any:
        if is_not_modified(event.exception):
            return None
        return await on_unexpected(event, **data)

    @router.errors()
    async def on_unexpected(event: ErrorEvent, **data: Any) -> None:
        update_id, user_id, chat_id = event_ids(event)
        exc = event.exception
        log.error(
            "update_failed update_id=%s user_id=%s chat_id=%s error=%s where=%s",
            update_id,
            user_id,
            chat_id,
            type(exc).__name__,
            _where(exc),
        )
        await _tell(event, _translator(data)("error-apology"), data)

    return router
