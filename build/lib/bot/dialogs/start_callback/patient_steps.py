"""The patient steps: the phone (and the warning when it has an open consultation), the name."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput
from aiogram_dialog.widgets.kbd import Button
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialogs.answered import answer_early
from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.handlers import (
    album_seen_before,
    go_next,
    set_error,
    set_input_error,
)
from bot.input_parsing.errors import InputError
from bot.input_parsing.phone import parse_phone
from bot.rendering.card import CardView, CardViewer, render_card, short_id
from bot.services.consultation_start import open_by_phone
from bot.settings import Settings
from bot.states import StartCallbackSG as SG
from storage.models import Consultation
from storage.repositories.consultations import ConsultationRepository

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- phone


async def on_phone_input(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    if album_seen_before(manager, message):
        return
    if message.contact is not None:
        raw = message.contact.phone_number
    elif message.text is not None:
        raw = message.text
    else:
        set_error(manager, "wizard-phone-error-empty")
        return
    settings: Settings | None = manager.middleware_data.get("settings")
    region = settings.default_phone_region if settings is not None else "RU"
    try:
        phone = parse_phone(raw, region)
    except InputError as exc:
        set_input_error(manager, exc)
        return
    session: AsyncSession = manager.middleware_data["session"]
    data = manager.dialog_data
    data.pop(S.PHONE_WARNING, None)
    warning = await phone_warning(session, phone.e164, phone.display, data)
    if warning is not None:
        # Held in the warning until "Continue anyway": "Change phone" keeps the phone the
        # wizard had (an edit that is abandoned loses nothing).
        data[S.PHONE_WARNING] = warning
        await manager.switch_to(SG.phone_warning)
        return
    data[S.PHONE] = phone.e164
    data[S.PHONE_DISPLAY] = phone.display
    await go_next(manager)


async def phone_warning(
    session: AsyncSession,
    phone_e164: str,
    display: str,
    data: dict[str, Any],
    *,
    exclude_id: int | None = None,
) -> dict[str, Any] | None:
    """The warning for a phone that has open consultations (starting, active, unknown) the
    coordinator has not gone past yet in this wizard; None when there is nothing to say."""
    open_ones = await open_by_phone(session, phone_e164, exclude_id=exclude_id)
    acknowledged = set(data.get(S.PHONE_ACK) or ())
    if not open_ones or {c.id for c in open_ones} <= acknowledged:
        return None
    return warning_of(open_ones, phone_e164, display)


def warning_of(open_ones: list[Consultation], phone_e164: str, display: str) -> dict[str, Any]:
    """The warning step's data (JSON-safe) about the newest open consultation."""
    first = open_ones[0]
    return {
        "phone": phone_e164,
        "display": display,
        "ids": [c.id for c in open_ones],
        "consultation_id": first.id,
        "state": str(getattr(first.state, "value", first.state)),
        "short_id": short_id(CardView.of(first)),
        "doctor": first.doctor_name,
        "doctor_id": first.doctor_id,
        "begin_at": first.begin_at.isoformat() if first.begin_at else None,
    }


async def on_phone_continue(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    data = manager.dialog_data
    warning = data.pop(S.PHONE_WARNING, None) or {}
    if warning.get("phone"):
        data[S.PHONE] = warning["phone"]
        data[S.PHONE_DISPLAY] = warning["display"]
    acknowledged = set(data.get(S.PHONE_ACK) or ())
    data[S.PHONE_ACK] = sorted(acknowledged | set(warning.get("ids") or ()))
    await go_next(manager)


async def on_phone_change(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    # The warned phone was never taken; the one the wizard had (if any) stays.
    manager.dialog_data.pop(S.PHONE_WARNING, None)
    await manager.switch_to(SG.phone)


async def on_phone_open_card(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    """Show the existing consultation's card as a new message (with the card's own buttons),
    and the warning again below it: the wizard's message is not turned into the card."""
    await answer_early(callback, manager.middleware_data)
    warning = manager.dialog_data.get(S.PHONE_WARNING) or {}
    session: AsyncSession = manager.middleware_data["session"]
    record = await ConsultationRepository(session).get(int(warning.get("consultation_id") or 0))
    if record is None or callback.message is None:
        return
    md = manager.middleware_data
    viewer = CardViewer.of(md.get("user"), private=True)
    text, markup = render_card(CardView.of(record), md["t"], md["tz"], viewer)
    await callback.bot.send_message(  # type: ignore[union-attr]
        callback.message.chat.id, text, reply_markup=markup
    )
    manager.show_mode = ShowMode.SEND


# ---------------------------------------------------------------------------- name


async def on_name_ok(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.dialog_data[S.NAME] = value
    await go_next(manager)


async def on_input_error(
    message: Message, widget: ManagedTextInput[Any], manager: DialogManager, error: ValueError
) -> None:
    set_input_error(manager, error)
