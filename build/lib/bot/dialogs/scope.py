"""A dialog takes only its own input; commands and other flows' buttons pass through.

aiogram-dialog registers catch-all handlers for every state of a dialog, so while a window
is open:
- any text — `/start_callback` typed over the list, `/list` typed at the wizard's phone step —
  would be taken as that window's input and never reach the command's router;
- any button press without aiogram-dialog's intent id in its data (a card's Refresh, a
  notice's Conclusion or Start again) falls back to the open stack and redraws the window
  instead of reaching the router that serves it.
"""

from __future__ import annotations

from aiogram import F
from aiogram.types import Message
from aiogram_dialog import Dialog
from aiogram_dialog.utils import CB_SEP


def is_not_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def own_input_only(dialog: Dialog) -> Dialog:
    dialog.message.filter(is_not_command)
    dialog.callback_query.filter(F.data.contains(CB_SEP))
    return dialog
