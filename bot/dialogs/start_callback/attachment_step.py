"""The attachment step: one document or photo, checked for size, kept as a Telegram file id."""

from __future__ import annotations

import logging

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button

from api_client.callbacks import media_type_or_default
from api_client.client import MAX_ATTACHMENT_BYTES
from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.handlers import (
    album_seen_before,
    go_next,
    set_error,
    t_of,
)

log = logging.getLogger(__name__)

_MB = 1024 * 1024


# ---------------------------------------------------------------------------- attachment


async def on_attachment(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    if message.media_group_id:
        album_seen_before(manager, message)
        return
    t = t_of(manager)
    if message.document is not None:
        doc = message.document
        file_id, size = doc.file_id, doc.file_size
        name = doc.file_name or "document"
        # The type is whatever the sender's client declared: one that is not a plain
        # type/subtype is sent as application/octet-stream (the document itself is fine,
        # and the coordinator cannot fix a label their phone chose).
        mime = media_type_or_default(doc.mime_type)
    elif message.photo:
        photo = message.photo[-1]  # the largest size Telegram keeps
        file_id, size = photo.file_id, photo.file_size
        name = t("wizard-attachment-photo-name")
        mime = "image/jpeg"
    else:
        set_error(manager, "wizard-attachment-wrong-kind")
        return
    # Checked from Telegram's metadata, before anything is downloaded.
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        set_error(
            manager,
            "wizard-attachment-too-large",
            name=name,
            size_mb=f"{size / _MB:.1f}",
            limit_mb=MAX_ATTACHMENT_BYTES // _MB,
        )
        return
    manager.dialog_data[S.ATTACHMENT] = {
        "file_id": file_id,
        "name": name,
        "mime": mime,
        "size": size,
    }
    await go_next(manager)


async def on_attachment_other(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    if album_seen_before(manager, message):
        return
    set_error(manager, "wizard-attachment-wrong-kind")


async def on_attachment_skip(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    manager.dialog_data[S.ATTACHMENT] = None
    await go_next(manager)
