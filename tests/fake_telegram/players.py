"""Helpers that play Telegram users, and read a chat the way its user sees it.

Every action queues an update and, unless wait=False, returns only after the bot has handled
it (see FakeTelegram.wait_handled), so tests need no sleeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .state import Button, CallbackQueryRecord, StoredMessage

if TYPE_CHECKING:
    from .server import FakeTelegram

MessageRef = StoredMessage | int | None


@dataclass(frozen=True)
class AlbumItem:
    content: bytes
    kind: str = "photo"  # "photo" | "document"
    filename: str | None = None
    mime: str | None = None
    declared_size: int | None = None


class ChatView:
    """Read-only view of one chat: messages in order, current texts and buttons after edits."""

    def __init__(self, tg: FakeTelegram, chat_id: int) -> None:
        self.tg = tg
        self.chat_id = chat_id

    def messages(self, include_deleted: bool = False) -> list[StoredMessage]:
        return self.tg.messages(self.chat_id, include_deleted)

    def bot_messages(self) -> list[StoredMessage]:
        return self.tg.bot_messages(self.chat_id)

    def last_bot_message(self) -> StoredMessage:
        sent = self.bot_messages()
        if not sent:
            raise AssertionError(
                f"the bot wrote nothing in chat {self.chat_id}\n" + self.tg.describe()
            )
        return sent[-1]

    def message(self, ref: MessageRef = None) -> StoredMessage:
        if isinstance(ref, StoredMessage):
            return self.tg.chat(self.chat_id).messages[ref.message_id]
        if isinstance(ref, int):
            found = self.tg.chat(self.chat_id).messages.get(ref)
            if found is None:
                raise AssertionError(f"no message #{ref} in chat {self.chat_id}")
            return found
        return self.last_bot_message()

    def keyboard(self, message: MessageRef = None) -> list[list[str]]:
        return [[b.text for b in row] for row in self.message(message).keyboard]

    def buttons(self, message: MessageRef = None) -> list[str]:
        """Inline button texts of `message` (the last bot message by default)."""
        return self.message(message).button_texts

    def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard shown under the input field, or None."""
        markup = self.tg.chat(self.chat_id).reply_keyboard
        if markup is None:
            return None
        return [[str(b.get("text", "")) for b in row] for row in markup.get("keyboard", [])]

    def find_button(self, text: str, message: MessageRef = None) -> tuple[StoredMessage, Button]:
        if message is not None:
            candidates = [self.message(message)]
        else:
            candidates = [m for m in reversed(self.bot_messages()) if m.buttons]
        for candidate in candidates:
            button = candidate.find_button(text)
            if button is not None:
                return candidate, button
        shown = {m.message_id: m.button_texts for m in candidates} if candidates else "none"
        raise AssertionError(
            f"no button {text!r} in chat {self.chat_id}; visible buttons by message: {shown}"
        )


class _Actor:
    """Shared actions of a user in some chat (private or group)."""

    def __init__(self, tg: FakeTelegram, chat_id: int, user_id: int) -> None:
        self._tg = tg
        self._chat_id = chat_id
        self._user_id = user_id

    async def _post(self, wait: bool, **content: Any) -> StoredMessage:
        message = self._tg.new_user_message(self._chat_id, self._user_id, **content)
        (update_id,) = await self._tg.enqueue(("message", message.to_dict()))
        if wait:
            await self._tg.wait_handled(update_id)
        return message

    async def send_text(self, text: str, *, wait: bool = True) -> StoredMessage:
        return await self._post(wait, text=text)

    async def send_command(
        self, command: str, args: str | None = None, *, mention: bool = False, wait: bool = True
    ) -> StoredMessage:
        command = command if command.startswith("/") else f"/{command}"
        if mention:
            command = f"{command}@{self._tg.bot_user.username}"
        text = f"{command} {args}" if args else command
        return await self._post(wait, text=text, command_entity=True)

    async def send_document(
        self,
        content: bytes = b"%PDF-1.4 test",
        filename: str = "file.pdf",
        mime: str = "application/pdf",
        declared_size: int | None = None,
        *,
        caption: str | None = None,
        wait: bool = True,
    ) -> StoredMessage:
        """declared_size lets a test claim a huge file_size without allocating the bytes."""
        stored = self._tg.add_file(
            None if declared_size is not None and not content else content,
            kind="document",
            file_name=filename,
            mime_type=mime,
            declared_size=declared_size,
        )
        return await self._post(wait, document=stored, caption=caption)

    async def send_photo(
        self,
        content: bytes = b"\xff\xd8\xff\xe0 fake jpeg",
        declared_size: int | None = None,
        *,
        caption: str | None = None,
        wait: bool = True,
    ) -> StoredMessage:
        stored = self._tg.add_file(
            None if declared_size is not None and not content else content,
            kind="photo",
            mime_type="image/jpeg",
            declared_size=declared_size,
        )
        return await self._post(wait, photo=stored, caption=caption)

    async def send_album(
        self, items: Sequence[AlbumItem | bytes], *, wait: bool = True
    ) -> list[StoredMessage]:
        """Several messages sharing one media_group_id, delivered in one getUpdates batch."""
        group_id = f"album{self._tg.state.next_id()}"
        messages = []
        for item in items:
            entry = item if isinstance(item, AlbumItem) else AlbumItem(content=item)
            stored = self._tg.add_file(
                entry.content,
                kind=entry.kind,
                file_name=entry.filename,
                mime_type=entry.mime or ("image/jpeg" if entry.kind == "photo" else None),
                declared_size=entry.declared_size,
            )
            messages.append(
                self._tg.new_user_message(
                    self._chat_id, self._user_id, media_group_id=group_id, **{entry.kind: stored}
                )
            )
        ids = await self._tg.enqueue(*(("message", m.to_dict()) for m in messages))
        if wait:
            await self._tg.wait_handled(ids[-1])
        return messages

    async def send_contact(
        self,
        phone: str,
        first_name: str,
        user_id: int | None = None,
        last_name: str | None = None,
        *,
        wait: bool = True,
    ) -> StoredMessage:
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return await self._post(wait, contact=contact)

    async def _query(self, message: StoredMessage, data: str, wait: bool) -> CallbackQueryRecord:
        query = self._tg.new_callback_query(self._user_id, message, data)
        payload = {
            "id": query.id,
            "from": query.from_user.to_dict(),
            "message": message.to_dict(),
            "chat_instance": f"ci{self._chat_id}",
            "data": data,
        }
        (update_id,) = await self._tg.enqueue(("callback_query", payload))
        if wait:
            await self._tg.wait_handled(update_id)
        return query

    async def press(
        self, text: str, message: MessageRef = None, *, wait: bool = True
    ) -> CallbackQueryRecord:
        """Press an inline button by its text, in the latest bot message that has it."""
        view = ChatView(self._tg, self._chat_id)
        found, button = view.find_button(text, message)
        if button.callback_data is None:
            raise AssertionError(f"button {text!r} has no callback_data: {button.raw}")
        return await self._query(found, button.callback_data, wait)

    async def press_data(
        self, callback_data: str, message_id: int | None = None, *, wait: bool = True
    ) -> CallbackQueryRecord:
        """Send any callback data (forged or stale) as if pressed on message_id."""
        view = ChatView(self._tg, self._chat_id)
        target = view.message(message_id)
        return await self._query(target, callback_data, wait)


class FakeUser(ChatView, _Actor):
    """A user in their private chat with the bot."""

    def __init__(self, tg: FakeTelegram, record: Any) -> None:
        ChatView.__init__(self, tg, record.id)
        _Actor.__init__(self, tg, record.id, record.id)
        self.record = record

    @property
    def id(self) -> int:
        return int(self.record.id)

    def alerts(self) -> list[CallbackQueryRecord]:
        """Answered callback queries of this user, in order (text, show_alert)."""
        return [
            q
            for q in self.tg.state.callback_queries.values()
            if q.from_user.id == self.id and q.answered
        ]

    def block_bot(self) -> None:
        self.tg.chat(self.chat_id).blocked = True

    def unblock_bot(self) -> None:
        self.tg.chat(self.chat_id).blocked = False


class FakeGroup(ChatView):
    """A group chat; every action names the member who does it."""

    def _as(self, user: FakeUser) -> _Actor:
        return _Actor(self.tg, self.chat_id, user.id)

    async def send_text(
        self, from_user: FakeUser, text: str, *, wait: bool = True
    ) -> StoredMessage:
        return await self._as(from_user).send_text(text, wait=wait)

    async def send_command(
        self,
        from_user: FakeUser,
        command: str,
        args: str | None = None,
        *,
        mention: bool = False,
        wait: bool = True,
    ) -> StoredMessage:
        return await self._as(from_user).send_command(command, args, mention=mention, wait=wait)

    async def press(
        self, from_user: FakeUser, text: str, message: MessageRef = None, *, wait: bool = True
    ) -> CallbackQueryRecord:
        return await self._as(from_user).press(text, message, wait=wait)

    def migrate_to_supergroup(self, new_chat_id: int) -> FakeGroup:
        """Upgrade: the old id now answers 400 with migrate_to_chat_id."""
        old = self.tg.chat(self.chat_id)
        new = self.tg.group(new_chat_id, old.title or "", chat_type="supergroup")
        old.migrated_to = new_chat_id
        return new
