"""aiogram's types built on first use (bot/aiogram_types.py) parse and send exactly as the
eagerly built ones do.

Two fresh interpreters parse the same Telegram payloads (updates of each kind the bot
handles, the answers of the methods it calls) and build the same requests; one with aiogram
as it comes, one with its builds deferred. Their results must be identical, and the deferred
one must hold only the types it used.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
if sys.argv[1] == "deferred":
    from bot.aiogram_types import defer_aiogram_builds
    assert defer_aiogram_builds()
from aiogram.methods import EditMessageText, SendMessage, AnswerCallbackQuery
from aiogram.methods.base import Response
from aiogram.types import (
    CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User,
)
from bot.aiogram_types import built_types

user = {"id": 7, "is_bot": False, "first_name": "Анна", "language_code": "ru"}
chat = {"id": 7, "type": "private", "first_name": "Анна"}
keyboard = {"inline_keyboard": [[{"text": "Да", "callback_data": "v:yes"}]]}
message = {"message_id": 3, "date": 1700000000, "chat": chat, "from": user,
           "text": "/start ref", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
           "reply_markup": keyboard}
updates = [
    {"update_id": 1, "message": message},
    {"update_id": 2, "callback_query": {"id": "9", "from": user, "chat_instance": "c",
                                        "data": "v:yes", "message": message}},
    {"update_id": 3, "message": {**message, "text": None, "contact": {
        "phone_number": "+79099708593", "first_name": "Пётр", "user_id": 8}}},
    {"update_id": 4, "my_chat_member": {"chat": chat, "from": user, "date": 1700000000,
        "old_chat_member": {"status": "member", "user": user},
        "new_chat_member": {"status": "kicked", "user": user, "until_date": 0}}},
    {"update_id": 5, "message": {**message, "text": None, "document": {
        "file_id": "f", "file_unique_id": "u", "file_name": "a.pdf", "file_size": 10}}},
]
out = {
    "updates": [Update.model_validate(u).model_dump(mode="json", exclude_none=True)
                for u in updates],
    "answer": Response[list[Update]].model_validate({"ok": True, "result": updates})
              .model_dump(mode="json", exclude_none=True),
    "message": Message.model_validate(message).model_dump(mode="json", exclude_none=True),
    "me": User.model_validate({**user, "is_bot": True}).model_dump(mode="json"),
    "send": SendMessage(chat_id=7, text="x", reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="v:yes")]]
    )).model_dump(warnings=False, exclude_none=True),  # as aiogram's session dumps it
    "edit": EditMessageText(chat_id=7, message_id=3, text="y").model_dump(
        warnings=False, exclude_none=True),
    "answer_query": AnswerCallbackQuery(callback_query_id="9").model_dump(warnings=False),
    "built": built_types(),
}
print(json.dumps(out, sort_keys=True, default=str))
"""


def _probe(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_deferred_types_parse_and_send_as_aiogram_does() -> None:
    eager, deferred = _probe("eager"), _probe("deferred")
    built_eagerly, built_deferred = eager.pop("built"), deferred.pop("built")
    assert deferred == eager
    assert isinstance(built_eagerly, int) and isinstance(built_deferred, int)
    assert built_deferred < built_eagerly // 5, (built_deferred, built_eagerly)


def test_deferring_after_aiogram_was_imported_changes_nothing() -> None:
    script = (
        "import aiogram\n"
        "from bot.aiogram_types import defer_aiogram_builds, built_types\n"
        "print(defer_aiogram_builds(), built_types())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    deferred, built = done.stdout.split()
    assert deferred == "False" and int(built) > 200
