"""A fake Telegram Bot API server for end-to-end tests of the bot, and user-playing helpers."""

from .errors import ApiError
from .html_text import HtmlParseError, ParsedText, parse_html
from .limits import ManualClock, RateLimits, Window
from .players import AlbumItem, ChatView, FakeGroup, FakeUser
from .polling import make_bot, run_polling
from .server import DEFAULT_TOKEN, FakeTelegram
from .state import Button, CallbackQueryRecord, Delivery, StoredFile, StoredMessage

__all__ = [
    "DEFAULT_TOKEN",
    "AlbumItem",
    "ApiError",
    "Button",
    "CallbackQueryRecord",
    "ChatView",
    "Delivery",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "HtmlParseError",
    "ManualClock",
    "ParsedText",
    "RateLimits",
    "StoredFile",
    "StoredMessage",
    "Window",
    "make_bot",
    "parse_html",
    "run_polling",
]
