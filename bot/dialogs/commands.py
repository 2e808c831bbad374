"""Commands always reach their routers, whatever dialog is open.

aiogram-dialog registers a catch-all message handler for every state of a dialog, so while
a window is open any text — `/start_callback` typed over the list, `/list` typed at the
wizard's phone step — would be taken as that window's input and never reach the command's
router. Every dialog gets this filter: a message that starts with "/" is not dialog input.
"""

from __future__ import annotations

from aiogram.types import Message
from aiogram_dialog import Dialog


def is_not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def let_commands_through(dialog: Dialog) -> Dialog:
    dialog.message.filter(is_not_command)
    return dialog
