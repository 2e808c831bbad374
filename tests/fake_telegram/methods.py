"""The Bot API methods the bot uses, with Telegram's checks and error texts.

Each handler takes decoded Params and returns the `result` of the answer, or raises ApiError.
getUpdates and deleteWebhook live in the server, next to the update queue; setWebhook is
here (it only records the hook: the fake never POSTs updates to it).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import bad_request
from .html_text import Entity, HtmlParseError, parse_html
from .limits import SEND_METHODS, Clock, RateLimiter
from .params import Params
from .state import (
    MAX_GETFILE_SIZE,
    ChatRecord,
    Delivery,
    FakeState,
    Revision,
    StoredFile,
    StoredMessage,
    UserRecord,
    WebhookRecord,
    scope_key,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Handler = Callable[[Params], Awaitable[Any]]


@dataclass
class ForcedFailures:
    """The next `count` calls of `methods` get 429 with `retry_after` (tg.force_429)."""

    count: int
    retry_after: int
    methods: frozenset[str]


@dataclass(frozen=True)
class _Text:
    text: str
    html: str | None
    entities: tuple[Entity, ...]


class BotApi:
    def __init__(
        self,
        state: FakeState,
        bot_user: UserRecord,
        limiter: RateLimiter,
        clock: Clock,
        wall_clock: Clock,
    ) -> None:
        self.state = state
        self.bot_user = bot_user
        self.limiter = limiter
        self.clock = clock
        self.wall_clock = wall_clock
        self.forced: list[ForcedFailures] = []
        self.handlers: dict[str, Handler] = {
            "getme": self.get_me,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagecaption": self.edit_message_caption,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "answercallbackquery": self.answer_callback_query,
            "sendchataction": self.send_chat_action,
            "senddocument": self.send_document,
            "sendphoto": self.send_photo,
            "getfile": self.get_file,
            "getchat": self.get_chat,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "setchatmenubutton": self.set_chat_menu_button,
            "setwebhook": self.set_webhook,
            "getwebhookinfo": self.get_webhook_info,
        }

    # ---- shared checks -------------------------------------------------------------------

    def resolve_chat(self, params: Params) -> ChatRecord:
        ref = params.chat_ref()
        chat: ChatRecord | None
        if isinstance(ref, int):
            chat = self.state.chats.get(ref)
        else:
            name = ref.removeprefix("@")
            chat = next(
                (c for c in self.state.chats.values() if c.user and c.user.username == name),
                None,
            )
        if chat is None:
            raise errors.chat_not_found()
        if chat.migrated_to is not None:
            raise errors.migrated(chat.migrated_to)
        if chat.blocked:
            raise errors.blocked()
        return chat

    def _gate(self, method: str, chat: ChatRecord) -> None:
        """Forced 429s first, then the flood limiter (sends only)."""
        for forced in self.forced:
            if method in forced.methods and forced.count > 0:
                forced.count -= 1
                self.state.too_many_requests_sent += 1
                raise errors.too_many_requests(forced.retry_after)
        self.forced = [f for f in self.forced if f.count > 0]
        if method in SEND_METHODS:
            retry_after = self.limiter.check(chat.id, chat.is_group)
            if retry_after is not None:
                self.state.too_many_requests_sent += 1
                raise errors.too_many_requests(retry_after)

    def _text(self, params: Params, key: str, mode_key: str, entities_key: str) -> _Text | None:
        raw = params.string(key)
        if raw is None:
            return None
        mode = (params.string(mode_key) or "").lower()
        if mode == "html":
            try:
                parsed = parse_html(raw)
            except HtmlParseError as exc:
                raise errors.cant_parse_entities(str(exc)) from None
            return _Text(parsed.text, raw, parsed.entities)
        # Markdown modes are not parsed: the team uses HTML (DefaultBotProperties).
        given = params.json_value(entities_key) or []
        entities = tuple(
            Entity(
                type=e["type"],
                offset=e["offset"],
                length=e["length"],
                url=e.get("url"),
                language=e.get("language"),
            )
            for e in given
        )
        return _Text(raw, None, entities)

    def _message_text(self, params: Params) -> _Text:
        text = self._text(params, "text", "parse_mode", "entities")
        if text is None or not text.text.strip():
            raise bad_request("message text is empty")
        if len(text.text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text

    def _caption(self, params: Params) -> _Text | None:
        caption = self._text(params, "caption", "parse_mode", "caption_entities")
        if caption is not None and len(caption.text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return caption

    def _markup(self, params: Params) -> dict[str, Any] | None:
        markup = params.json_value("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= (
                    MAX_CALLBACK_DATA_BYTES
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _message(self, chat: ChatRecord, params: Params, missing: str) -> StoredMessage:
        if params.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        message_id = params.integer("message_id")
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message

    def _store(
        self, chat: ChatRecord, method: str, *, protected: bool = False, **content: Any
    ) -> StoredMessage:
        markup = content.pop("reply_markup", None)
        if markup is not None and "inline_keyboard" not in markup:
            # Reply keyboards live in the chat's input field, not on the message.
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
            markup = None
        message = StoredMessage(
            chat=chat,
            protected=protected,
            message_id=chat.allocate_message_id(),
            from_user=self.bot_user,
            date=int(self.wall_clock()),
            sent_at=self.clock(),
            from_bot=True,
            reply_markup=markup,
            **content,
        )
        chat.messages[message.message_id] = message
        self.state.deliveries.append(Delivery(chat.id, message.message_id, method, message.sent_at))
        return message

    def _edit(self, message: StoredMessage) -> None:
        message.history.append(
            Revision(
                message.content,
                message.html or message.caption_html,
                message.reply_markup,
                self.clock(),
            )
        )
        message.edit_date = int(self.wall_clock())

    # ---- methods --------------------------------------------------------------------------

    async def get_me(self, params: Params) -> Any:
        me = self.bot_user.to_dict()
        me.update(
            can_join_groups=True, can_read_all_group_messages=False, supports_inline_queries=False
        )
        return me

    async def send_message(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        text = self._message_text(params)
        markup = self._markup(params)
        self._gate("sendmessage", chat)
        message = self._store(
            chat,
            "sendMessage",
            protected=params.flag("protect_content"),
            text=text.text,
            html=text.html,
            entities=text.entities,
            reply_markup=markup,
        )
        return message.to_dict()

    async def edit_message_text(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        message = self._message(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text = self._message_text(params)
        markup = self._markup(params)
        if (text.text, text.entities, markup) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise bad_request(errors.NOT_MODIFIED)
        self._gate("editmessagetext", chat)
        self._edit(message)
        message.text, message.html, message.entities = text.text, text.html, text.entities
        message.reply_markup = markup
        return message.to_dict()

    async def edit_message_caption(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        message = self._message(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(params)
        markup = self._markup(params)
        new = (caption.text, caption.entities) if caption else (None, ())
        if (*new, markup) == (message.caption, message.caption_entities, message.reply_markup):
            raise bad_request(errors.NOT_MODIFIED)
        self._gate("editmessagecaption", chat)
        self._edit(message)
        message.caption, message.caption_entities = new
        message.caption_html = caption.html if caption else None
        message.reply_markup = markup
        return message.to_dict()

    async def edit_message_reply_markup(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        message = self._message(chat, params, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        markup = self._markup(params)
        if markup == message.reply_markup:
            raise bad_request(errors.NOT_MODIFIED)
        self._gate("editmessagereplymarkup", chat)
        self._edit(message)
        message.reply_markup = markup
        return message.to_dict()

    async def delete_message(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        message = self._message(chat, params, "message to delete not found")
        message.deleted = True
        return True

    async def answer_callback_query(self, params: Params) -> Any:
        query = self.state.callback_queries.get(params.string("callback_query_id") or "")
        if query is None or query.answered:
            raise bad_request(errors.QUERY_TOO_OLD)
        text = params.string("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.text = text
        query.show_alert = params.flag("show_alert")
        query.url = params.string("url")
        return True

    async def send_chat_action(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        self.state.chat_actions.append((chat.id, params.string("action") or ""))
        return True

    def _input_file(self, params: Params, field: str, kind: str) -> StoredFile:
        value = params.string(field)
        upload = params.uploads.get(field)
        if value and value.startswith("attach://"):
            upload = params.uploads.get(value.removeprefix("attach://"))
        if upload is not None:
            return self.state.new_file(
                kind, upload.content, file_name=upload.filename, mime_type=upload.content_type
            )
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if value in self.state.files:
            return self.state.files[value]
        if value.startswith(("http://", "https://")):
            return self.state.new_file(
                kind, None, file_name=value.rsplit("/", 1)[-1], mime_type=None, size=0
            )
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def _send_file(self, params: Params, kind: str, method: str) -> Any:
        chat = self.resolve_chat(params)
        caption = self._caption(params)
        markup = self._markup(params)
        stored = self._input_file(params, kind, kind)
        self._gate(method.lower(), chat)
        message = self._store(
            chat,
            method,
            protected=params.flag("protect_content"),
            caption=caption.text if caption else None,
            caption_html=caption.html if caption else None,
            caption_entities=caption.entities if caption else (),
            reply_markup=markup,
            **{kind: stored},
        )
        return message.to_dict()

    async def send_document(self, params: Params) -> Any:
        return await self._send_file(params, "document", "sendDocument")

    async def send_photo(self, params: Params) -> Any:
        return await self._send_file(params, "photo", "sendPhoto")

    async def get_file(self, params: Params) -> Any:
        file_id = params.string("file_id") or ""
        stored = self.state.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if stored.size > MAX_GETFILE_SIZE:
            raise bad_request("file is too big")
        return stored.file_dict()

    async def get_chat(self, params: Params) -> Any:
        chat = self.resolve_chat(params)
        info = chat.to_dict()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    async def set_my_commands(self, params: Params) -> Any:
        commands = params.json_value("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        key = (scope_key(params.json_value("scope")), params.string("language_code") or "")
        self.state.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def get_my_commands(self, params: Params) -> Any:
        key = (scope_key(params.json_value("scope")), params.string("language_code") or "")
        return self.state.commands.get(key, [])

    async def delete_my_commands(self, params: Params) -> Any:
        key = (scope_key(params.json_value("scope")), params.string("language_code") or "")
        self.state.commands.pop(key, None)
        return True

    async def set_chat_menu_button(self, params: Params) -> Any:
        chat_id = params.integer("chat_id")
        self.state.menu_buttons[chat_id] = params.json_value("menu_button") or {"type": "default"}
        return True

    # ---- webhook ---------------------------------------------------------------------------

    async def set_webhook(self, params: Params) -> Any:
        url = params.required_str("url")
        if not url.startswith("https://") and not url.startswith("http://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.string("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        allowed = params.json_value("allowed_updates")
        self.state.webhook = WebhookRecord(
            url, secret, tuple(allowed) if isinstance(allowed, list) else None
        )
        return True

    async def get_webhook_info(self, params: Params) -> Any:
        hook = self.state.webhook
        if hook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        info: dict[str, Any] = {
            "url": hook.url, "has_custom_certificate": False, "pending_update_count": 0
        }
        if hook.allowed_updates is not None:
            info["allowed_updates"] = list(hook.allowed_updates)
        return info
