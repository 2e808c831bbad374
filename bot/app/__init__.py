"""The composition root: what the bot is made of, and in which order it starts.

  dispatcher.py  ``create_dispatcher``: every router and dialog, in one written order
  runtime.py     ``Runtime``, the start-up steps ``DEFAULT_STEPS`` and ``run_bot``
  preflight.py   start-up checks turning operator mistakes into one-line ConfigErrors
  partner.py     the embedded sandbox and the partner API client
  telegram.py    the Bot, the demo mark, polling/webhook
  telegram_session.py  the Bot API session (JSON requests, cached response types)
  fsm.py         conversation state: Redis or the database

Everything is imported plainly: a missing module fails the start with ImportError.
"""

from bot.app.dispatcher import create_dispatcher
from bot.app.fsm import build_fsm, redis_client, redis_fsm
from bot.app.preflight import check_identity
from bot.app.runtime import DEFAULT_STEPS, Runtime, Step, configure_logging, run_bot
from bot.app.telegram import (
    WEBHOOK_PATH,
    install_demo_mark,
    make_bot,
    serve_updates,
)
from bot.app.telegram_session import TelegramSession

__all__ = [
    "DEFAULT_STEPS",
    "WEBHOOK_PATH",
    "Runtime",
    "Step",
    "TelegramSession",
    "build_fsm",
    "check_identity",
    "configure_logging",
    "create_dispatcher",
    "install_demo_mark",
    "make_bot",
    "redis_client",
    "redis_fsm",
    "run_bot",
    "serve_updates",
]
