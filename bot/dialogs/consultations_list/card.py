"""The card drawn in place (a list row pressed, or a card button): the one look at the
partner API it needs, what that look found stored through the status path, and the edit.

Rendering is ``bot/rendering/card.py`` (the same card the wizard and the notifications
draw). Which buttons it offers is a courtesy, never a permission: every press is
authorized again by the service it calls.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import NotFound, PartnerApiError
from api_client.models import Callback
from bot.callback_data import ListPosition
from bot.i18n import I18n, Translator
from bot.notifications.runtime import Notifications, status_processor
from bot.rendering.card import CardView, CardViewer, render_card
from bot.services.access import Action, Actor, allowed
from bot.services.context import actor_of
from bot.services.status_changes import StatusProcessor
from bot.settings import Settings
from storage.enums import EventSource
from storage.models import Consultation

if TYPE_CHECKING:
    from api_client.client import PartnerApiClient

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    callback: Callback | None
    offline: bool  # the service did not answer (or has no such consultation any more)


async def fetch(api: PartnerApiClient, consultation: Consultation) -> Fetched:
    if not consultation.partner_id:
        return Fetched(None, False)
    try:
        return Fetched(await api.get_callback(consultation.partner_id), False)
    except NotFound:
        return Fetched(None, True)
    except PartnerApiError as exc:
        log.info("card_fetch_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        return Fetched(None, True)


@dataclasses.dataclass(frozen=True, slots=True)
class CardContext:
    """What drawing a card and acting on it need from the update (the handlers' named
    parameters, or a dialog's middleware data)."""

    actor: Actor
    session: AsyncSession
    api: PartnerApiClient
    settings: Settings
    i18n: I18n
    t: Translator
    tz: ZoneInfo
    outbox_wakeup: Callable[[], None]
    notifications: Notifications | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CardContext:
        return cls(
            actor=actor_of(data),
            session=data["session"],
            api=data["api"],
            settings=data["settings"],
            i18n=data["i18n"],
            t=data["t"],
            tz=data["tz"],
            outbox_wakeup=data["outbox_wakeup"],
            notifications=data.get("notifications"),
        )

    @property
    def processor(self) -> StatusProcessor:
        """The notifications' shared apply path (the running component's, or an equal one)."""
        if self.notifications is not None:
            return self.notifications.processor
        return status_processor(
            self.i18n,
            admin_ids=self.settings.admin_ids,
            default_timezone=self.settings.default_timezone,
            team_chat_id=self.settings.team_chat_id,
        )


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # the card's links are for tapping, not previews


async def edit(message: Any, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup, link_preview_options=NO_PREVIEW)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


async def _apply_fresh(ctx: CardContext, consultation: Consultation, fetched: Fetched) -> None:
    """Let the notifications' shared apply path store what the look found (and tell whom
    it concerns); without it the reconcile job will catch up."""
    if ctx.notifications is None or fetched.callback is None:
        return
    try:
        result = await ctx.notifications.processor.apply(
            ctx.session, consultation, fetched.callback, EventSource.RECONCILE
        )
    except Exception as exc:  # a card must still show even if the bookkeeping failed
        log.error("card_apply_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        return
    if result.queued:
        await ctx.session.commit()
        ctx.outbox_wakeup()


async def show(
    message: Any,
    consultation: Consultation,
    back: ListPosition | None,
    ctx: CardContext,
    *,
    header: str | None = None,
    fetched: Fetched | None = None,
) -> Fetched:
    """Draw the card in ``message`` (``back``: opened from a list at that position)."""
    if fetched is None:
        fetched = await fetch(ctx.api, consultation)
        await _apply_fresh(ctx, consultation, fetched)
    await ctx.session.refresh(consultation)
    actor = ctx.actor
    viewer = CardViewer(
        role=actor.role.value if actor.role is not None else None,
        private=message.chat.type == ChatType.PRIVATE,
        back=back,
        reads_conclusion=allowed(actor, Action.READ_CONCLUSION, consultation),
    )
    view = CardView.of(
        consultation,
        fetched.callback,
        offline=fetched.offline,
        settle_within=ctx.settings.start_settle_within,
    )
    text, markup = render_card(view, ctx.t, ctx.tz, viewer, header=header)
    await edit(message, text, markup)
    return fetched


async def show_card_in_place(
    query: CallbackQuery, consultation: Consultation, pos: ListPosition, data: Mapping[str, Any]
) -> None:
    """A list row was pressed (answered, and the row checked visible by the list): the
    list message becomes the card."""
    assert query.message is not None
    await show(query.message, consultation, pos, CardContext.of(data))


class CardContextMiddleware(BaseMiddleware):
    """Inner middleware of the card buttons' router: their handlers take one typed
    ``card: CardContext`` instead of the update's whole data."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["card"] = CardContext.of(data)
        return await handler(event, data)
