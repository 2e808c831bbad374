"""The card drawn in place (a list row pressed, or a card button): the one look at the
partner API it needs, what that look found stored through the status path, and the edit.

Rendering is ``bot/rendering/card.py`` (the same card the wizard and the notifications
draw). Which buttons it offers is a courtesy, never a permission: every press is
authorized again by the service it calls.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import NotFound, PartnerApiError
from api_client.models import Callback
from bot.callback_data import ListPosition
from bot.notifications.runtime import status_processor
from bot.rendering.card import CardView, CardViewer, render_card
from bot.services.access import Action, allowed
from bot.services.context import actor_of
from bot.services.status_changes import StatusProcessor
from storage.enums import EventSource
from storage.models import Consultation

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    callback: Callback | None
    offline: bool  # the service did not answer (or has no such consultation any more)


async def fetch(api: Any, consultation: Consultation) -> Fetched:
    if not consultation.partner_id:
        return Fetched(None, False)
    try:
        return Fetched(await api.get_callback(consultation.partner_id), False)
    except NotFound:
        return Fetched(None, True)
    except PartnerApiError as exc:
        log.info("card_fetch_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        return Fetched(None, True)


def processor_of(data: dict[str, Any]) -> StatusProcessor:
    """The notifications' shared apply path (the running component's, or an equal one)."""
    processor = getattr(data.get("notifications"), "processor", None)
    if isinstance(processor, StatusProcessor):
        return processor
    settings = data["settings"]
    return status_processor(
        data["i18n"],
        admin_ids=settings.admin_ids,
        default_timezone=settings.default_timezone,
        team_chat_id=settings.team_chat_id,
    )


async def edit(message: Any, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


async def _apply_fresh(data: dict[str, Any], consultation: Consultation, fetched: Fetched) -> None:
    """Let the notifications' shared apply path store what the look found (and tell whom
    it concerns); without it the reconcile job will catch up."""
    notifications = data.get("notifications")
    processor = getattr(notifications, "processor", None)
    if processor is None or fetched.callback is None:
        return
    session: AsyncSession = data["session"]
    try:
        result = await processor.apply(
            session, consultation, fetched.callback, EventSource.RECONCILE
        )
    except Exception:  # a card must still show even if the bookkeeping failed
        log.exception("card_apply_failed consultation=%s", consultation.id)
        return
    if getattr(result, "queued", 0):
        await session.commit()
        data["outbox_wakeup"]()


async def show(
    message: Any,
    consultation: Consultation,
    back: ListPosition | None,
    data: dict[str, Any],
    *,
    header: str | None = None,
    fetched: Fetched | None = None,
) -> Fetched:
    """Draw the card in ``message`` (``back``: opened from a list at that position)."""
    if fetched is None:
        fetched = await fetch(data["api"], consultation)
        await _apply_fresh(data, consultation, fetched)
    session: AsyncSession = data["session"]
    await session.refresh(consultation)
    actor = actor_of(data)
    viewer = CardViewer(
        role=actor.role.value if actor.role is not None else None,
        private=message.chat.type == ChatType.PRIVATE,
        back=back,
        reads_conclusion=allowed(actor, Action.READ_CONCLUSION, consultation),
    )
    view = CardView.of(consultation, fetched.callback, offline=fetched.offline)
    text, markup = render_card(view, data["t"], data["tz"], viewer, header=header)
    await edit(message, text, markup)
    return fetched


async def show_card_in_place(
    query: CallbackQuery, consultation: Consultation, pos: ListPosition, data: dict[str, Any]
) -> None:
    """A list row was pressed (answered, and the row checked visible by the list): the
    list message becomes the card."""
    assert query.message is not None
    await show(query.message, consultation, pos, data)
