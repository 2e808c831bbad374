"""Bot API requests whose answer the bot does not use.

Telegram answers an edit with the whole edited message; aiogram parses it into a ``Message``
(and its chat, sender, keyboard and buttons: a dozen pydantic objects) that the caller then
drops. These methods send the same request and read the answer as "done" only.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiogram.methods.base import TelegramMethod
from pydantic import BeforeValidator


def _done(value: Any) -> bool:
    # The edited message (a JSON object), or True for an inline message.
    return value is True or isinstance(value, dict)


Done = Annotated[bool, BeforeValidator(_done)]


class RemoveInlineKeyboard(TelegramMethod[bool]):
    """``editMessageReplyMarkup`` without a markup: the message's inline buttons go."""

    __returning__ = Done
    __api_method__ = "editMessageReplyMarkup"

    chat_id: int | str
    message_id: int
    business_connection_id: str | None = None
