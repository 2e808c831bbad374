"""A fake Telegram Bot API server for end-to-end tests of the bot, and user-playing helpers.

    async with FakeTelegram() as tg:                      # aiohttp on 127.0.0.1:0, tg.url
        bot = make_bot(tg)                                # parse_mode HTML, session -> fake
        async with run_polling(create_dispatcher(...), bot):
            anna = tg.user(1001, language_code="en")
            await anna.send_command("/start", "invite-code")  # returns once handled
            assert "Welcome" in anna.last_bot_message().text
            await anna.press("Confirm")                   # AssertionError lists buttons if absent
            assert anna.alerts()[-1].text == "Done"
            await tg.wait_for_messages(anna.chat_id, 3)   # async effects (outbox)

Limits: tg.rate_limits.enabled = True (per chat 1/s, group 20/min, overall 30/s; pass
clock=ManualClock() to control time), tg.force_429(n, retry_after); transport faults:
tg.force_error(n, status=502), tg.force_drop(n) (the call is not run; chat_id= narrows);
tg.hold_answers(chat_ids=…) / tg.release_answers(): a sendMessage is stored and its answer
held (tg.held), as when the bot dies between Telegram's receipt and its own record.
Inspect with tg.calls() (getUpdates included), tg.deliveries(chat_id),
tg.too_many_requests_sent, tg.unknown_methods, tg.commands(scope, lang).

Webhook mode: after the bot's setWebhook, updates are POSTed to its URL with the secret
header, one at a time (tg.webhook.attempts lists every POST and its answer).

Every request is first checked against the Bot API specification (botapi/api.json, parsed
once by spec.py; validation.py): unknown or missing parameters, wrong types, malformed nested
objects, unknown parse modes, chat actions and update types, buttons without exactly one
action get a 400 as Telegram answers it. tg.spec_refusals lists those; the bot fixtures
(tests/bot_fixtures.py assert_spec_kept) fail a test whose bot sent one.
"""

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
