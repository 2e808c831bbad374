"""What the fake Telegram knows: users, chats, messages, files, callback queries, deliveries.

Plain dataclasses that serialise to Bot API JSON, so the server, the player helpers and the
tests all read one source of truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .html_text import Entity

MAX_GETFILE_SIZE = 20 * 1024 * 1024


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    kind: str  # "document" | "photo"
    content: bytes | None
    size: int
    file_name: str | None = None
    mime_type: str | None = None

    def document_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name is not None:
            data["file_name"] = self.file_name
        if self.mime_type is not None:
            data["mime_type"] = self.mime_type
        return data

    def photo_sizes(self) -> list[dict[str, Any]]:
        # Telegram sends several sizes, largest last; handlers usually take photo[-1].
        thumb = {
            "file_id": f"{self.file_id}-thumb",
            "file_unique_id": f"{self.file_unique_id}-t",
            "width": 90,
            "height": 90,
            "file_size": min(self.size, 1024),
        }
        full = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": 1280,
            "height": 960,
            "file_size": self.size,
        }
        return [thumb, full]

    def file_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True)
class Revision:
    """One earlier version of a message, kept when the bot edits it."""

    text: str | None
    html: str | None
    reply_markup: dict[str, Any] | None
    at: float


@dataclass
class StoredMessage:
    chat: ChatRecord
    message_id: int
    from_user: UserRecord
    date: int
    sent_at: float  # the server clock (monotonic by default), for rate and order checks
    from_bot: bool
    text: str | None = None
    html: str | None = None  # what the bot sent, before parsing
    entities: tuple[Entity, ...] = ()
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: tuple[Entity, ...] = ()
    reply_markup: dict[str, Any] | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    contact: dict[str, Any] | None = None
    media_group_id: str | None = None
    command_entity: bool = False
    history: list[Revision] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    # Sent with protect_content: Telegram shows it as has_protected_content (no forwarding
    # or saving); aiogram-dialog compares it to decide between an edit and a new message.
    protected: bool = False

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def content(self) -> str:
        """The text or caption the user reads ("" when there is none)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def keyboard(self) -> list[list[Button]]:
        """The inline keyboard, row by row ([] when none)."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [
            [
                Button(
                    text=str(button.get("text", "")),
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                    raw=button,
                )
                for button in row
            ]
            for row in rows
        ]

    @property
    def buttons(self) -> list[Button]:
        return [button for row in self.keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button.text for button in self.buttons]

    def find_button(self, text: str) -> Button | None:
        return next((b for b in self.buttons if b.text == text), None)

    def markup_key(self) -> str:
        return json.dumps(self.reply_markup, sort_keys=True, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_dict(),
            "from": self.from_user.to_dict(),
        }
        if self.text is not None:
            data["text"] = self.text
            entities = [e.to_dict() for e in self.entities]
            if self.command_entity:
                command = self.text.split(maxsplit=1)[0]
                entities.insert(0, {"type": "bot_command", "offset": 0, "length": len(command)})
            if entities:
                data["entities"] = entities
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = [e.to_dict() for e in self.caption_entities]
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram echoes only inline keyboards back inside Message objects.
            data["reply_markup"] = self.reply_markup
        if self.document is not None:
            data["document"] = self.document.document_dict()
        if self.photo is not None:
            data["photo"] = self.photo.photo_sizes()
        if self.contact is not None:
            data["contact"] = self.contact
        if self.media_group_id is not None:
            data["media_group_id"] = self.media_group_id
        if self.protected:
            data["has_protected_content"] = True
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        return data

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.from_user.id}"
        extra = f" buttons={self.button_texts}" if self.buttons else ""
        gone = " DELETED" if self.deleted else ""
        return f"<#{self.message_id} {who}: {self.content[:80]!r}{extra}{gone}>"


@dataclass
class ChatRecord:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: UserRecord | None = None  # the other side of a private chat
    blocked: bool = False  # private: the user blocked the bot
    migrated_to: int | None = None  # group upgraded to this supergroup id
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None  # the last ReplyKeyboardMarkup, until removed

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        if self.title is not None:
            data["title"] = self.title
        return data

    def visible_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages.values() if not m.deleted]


@dataclass
class CallbackQueryRecord:
    id: str
    from_user: UserRecord
    message: StoredMessage
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One message the bot delivered (sent), in server order."""

    chat_id: int
    message_id: int
    method: str
    at: float


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, with its decoded parameters and the status answered."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None


@dataclass(frozen=True)
class WebhookRecord:
    """What setWebhook set: while it is there, getUpdates answers 409 as in Telegram."""

    url: str
    secret_token: str | None
    allowed_updates: tuple[str, ...] | None


@dataclass
class FakeState:
    users: dict[int, UserRecord] = field(default_factory=dict)
    chats: dict[int, ChatRecord] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    callback_queries: dict[str, CallbackQueryRecord] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    unknown_methods: list[str] = field(default_factory=list)
    # (scope key, language code) -> [{"command": ..., "description": ...}]
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    menu_buttons: dict[int | None, dict[str, Any]] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    webhook: WebhookRecord | None = None
    too_many_requests_sent: int = 0
    _counter: int = 0

    def next_id(self) -> int:
        self._counter += 1
        return self._counter

    def new_file(
        self,
        kind: str,
        content: bytes | None,
        *,
        file_name: str | None,
        mime_type: str | None,
        size: int | None = None,
    ) -> StoredFile:
        n = self.next_id()
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}-file-{n:06d}",
            file_unique_id=f"uniq{n:06d}",
            file_path=f"{kind}s/file_{n}{_suffix(file_name, kind)}",
            kind=kind,
            content=content,
            size=size if size is not None else len(content or b""),
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)


def _suffix(file_name: str | None, kind: str) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1]
    return ".jpg" if kind == "photo" else ""


def scope_key(scope: dict[str, Any] | None) -> str:
    """A stable name for a BotCommandScope: "default", "chat:42", "chat_member:42:7", ..."""
    if not scope:
        return "default"
    parts = [str(scope.get("type", "default"))]
    for key in ("chat_id", "user_id"):
        if key in scope:
            parts.append(str(scope[key]))
    return ":".join(parts)
