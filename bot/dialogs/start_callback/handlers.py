"""The wizard's shared step helpers and its common buttons (start, back, cancel, edit, retry).

Each step's handlers live in their own module (doctor_step, patient_steps, time_steps,
attachment_step): parse input → store it in dialog_data → go to the next step.

A bad answer sets a one-shot error shown above the same step's question (the step is asked
again); nothing else changes.
"""

from __future__ import annotations

import logging
import re
import secrets
from contextlib import suppress
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.getters import escape
from bot.i18n import Translator
from bot.input_parsing.duration import check_duration
from bot.input_parsing.errors import InputError
from bot.input_parsing.patient_name import parse_patient_name
from bot.input_parsing.phone import parse_phone
from bot.services.access import Action, authorize
from bot.services.context import actor_of
from bot.states import StartCallbackSG as SG
from bot.telegram_methods import RemoveInlineKeyboard

log = logging.getLogger(__name__)


_MAX_ALBUMS_REMEMBERED = 10
# Telegram's refusals of an edit of a message it no longer has or lets edit (>48 h).
_EDIT_GONE = re.compile(r"message can't be edited|message to edit not found")


# ---------------------------------------------------------------------------- helpers


def t_of(manager: DialogManager) -> Translator:
    return manager.middleware_data["t"]  # type: ignore[no-any-return]


def tz_of(manager: DialogManager) -> ZoneInfo:
    return manager.middleware_data["tz"]  # type: ignore[no-any-return]


def set_error(manager: DialogManager, key: str, **args: Any) -> None:
    safe = {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}
    manager.dialog_data[S.ERROR] = t_of(manager)(key, **safe)


def set_input_error(manager: DialogManager, error: ValueError) -> None:
    if isinstance(error, InputError):
        set_error(manager, error.reason, **error.args_)
    else:  # a widget's own ValueError: say what the step expects in general
        set_error(manager, "wizard-unexpected-input")


async def go_next(manager: DialogManager) -> None:
    await manager.switch_to(S.next_state(manager.current_context().state, manager.dialog_data))


def album_seen_before(manager: DialogManager, message: Message) -> bool:
    """One answer per album: later parts of an already answered album are dropped silently.

    Telegram delivers an album as separate messages sharing ``media_group_id``; without this
    every photo would get its own answer (or land as input on the next steps).
    """
    group = message.media_group_id
    if not group:
        return False
    seen: list[str] = manager.dialog_data.setdefault(S.ALBUMS, [])
    if group in seen:
        manager.show_mode = ShowMode.NO_UPDATE
        return True
    seen.append(group)
    del seen[:-_MAX_ALBUMS_REMEMBERED]
    set_error(manager, "wizard-attachment-album")
    return False


# ---------------------------------------------------------------------------- start / common


async def on_dialog_start(start_data: Any, manager: DialogManager) -> None:
    """Refused (AccessDenied, answered by the errors router) unless the actor may start
    now — whichever button opened it, however old; then the prefill from ``start_data``
    (see the package docstring for the keys)."""
    authorize(actor_of(manager.middleware_data), Action.START)
    manager.dialog_data[S.DRAFT] = secrets.token_hex(8)
    if not isinstance(start_data, dict):
        return
    data = manager.dialog_data
    doctor_id = start_data.get("doctor_id")
    if isinstance(doctor_id, int) and doctor_id > 0:
        data[S.DOCTOR_ID] = doctor_id
        if isinstance(start_data.get("doctor_name"), str):
            data[S.DOCTOR_NAME] = start_data["doctor_name"]
    phone = start_data.get("phone")
    if isinstance(phone, str):
        try:
            parsed = parse_phone(phone)
        except InputError:
            pass
        else:
            data[S.PHONE] = parsed.e164
            data[S.PHONE_DISPLAY] = parsed.display
    if isinstance(start_data.get("patient_name"), str):
        with suppress(InputError):
            data[S.NAME] = parse_patient_name(start_data["patient_name"])
    duration = start_data.get("duration_min")
    if isinstance(duration, int):
        with suppress(InputError):
            data[S.DURATION] = check_duration(duration)


async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    target = S.previous_state(manager.current_context().state, manager.dialog_data)
    if target is None:
        await on_cancel(callback, button, manager)
        return
    await manager.switch_to(target)


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """The wizard's message becomes the word "Cancelled": one edit takes its buttons away
    with it (not an edit of the buttons and a new message below). A press on an older
    message (or on one Telegram no longer lets edit) gets the word anew below, and the
    wizard's message loses its buttons."""
    t = t_of(manager)
    bot: Bot = manager.middleware_data["bot"]
    message = callback.message
    wizard_message = manager.current_stack().last_message_id
    await manager.done(show_mode=ShowMode.NO_UPDATE)  # its buttons: handled here
    if message is None:
        return
    if wizard_message == message.message_id and isinstance(message, Message):
        try:
            await message.edit_text(t("wizard-cancelled"))
            return
        except TelegramBadRequest as exc:
            if not _EDIT_GONE.search(exc.message):
                raise
    elif wizard_message is not None:
        await remove_buttons(bot, message.chat.id, wizard_message)
    await bot.send_message(message.chat.id, t("wizard-cancelled"))


async def remove_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take a message's inline buttons away; a message already without them, gone or too
    old to edit is left as it is."""
    try:
        await bot(RemoveInlineKeyboard(chat_id=chat_id, message_id=message_id))
    except TelegramBadRequest as exc:
        if not (_EDIT_GONE.search(exc.message) or "message is not modified" in exc.message):
            raise


async def on_unexpected(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    """Anything a step cannot use (a sticker on the name step, an album on the phone step)."""
    if album_seen_before(manager, message):
        return
    if not message.media_group_id:
        set_error(manager, "wizard-unexpected-input")


# ---------------------------------------------------------------------------- summary / edit


async def on_edit_pick(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    target = S.state_by_name((button.widget_id or "").removeprefix("e_"))
    if target is None:
        return
    manager.dialog_data[S.EDITING] = True
    await manager.switch_to(target)


async def on_retry_doctor(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[S.EDITING] = True
    await manager.switch_to(SG.doctor)


async def on_retry_time(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[S.EDITING] = True
    await manager.switch_to(SG.start_time)
