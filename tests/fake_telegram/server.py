"""FakeTelegram: an in-process Bot API server the real aiogram Bot talks to over HTTP.

    async with FakeTelegram() as tg:
        bot = make_bot(tg)
        async with run_polling(dp, bot):
            anna = tg.user(1001)
            await anna.send_text("hi")          # returns once the bot has handled it
            assert anna.last_bot_message().text == "hi"

Synchronisation: with aiogram polling and handle_as_tasks=False, a getUpdates whose `offset`
is past an update proves that update was handled, so player actions wait for that instead of
sleeping. `wait_for` re-checks a predicate after every request the server answers.

Webhook: once the bot called setWebhook, queued updates are POSTed to its URL instead
(webhook.py, `tg.webhook.attempts`); a 2xx answer confirms the update, so `wait_handled`
then means "received by the bot", not "handled".
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar, cast

from aiohttp import web

from . import errors
from .errors import ApiError
from .hold import AnswerHold, HeldCall
from .limits import SEND_METHODS, Clock, RateLimiter, RateLimits
from .methods import BotApi, ForcedFailures
from .params import Params
from .players import FakeGroup, FakeUser
from .state import (
    ApiCall,
    CallbackQueryRecord,
    ChatRecord,
    Delivery,
    FakeState,
    StoredFile,
    StoredMessage,
    UserRecord,
    scope_key,
)
from .validation import validate_request
from .webhook import WebhookDelivery

T = TypeVar("T")
DEFAULT_TOKEN = "123456:TEST-fake-telegram-token"
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


@dataclass
class TransportFault:
    """The next `count` matching calls fail before the method runs (nothing is delivered):
    `status` (a 5xx from Telegram's front end) or, with status None, a dropped connection.

    `after`: the method runs (the message is stored, the chat sees it) and only then is the
    answer replaced by the failure, as when Telegram's front end loses the back end's answer.
    `share`: only that share of the matching calls fails (drawn from `rng`), until cleared.
    """

    count: int
    status: int | None
    methods: frozenset[str]
    chat_id: str | None = None
    after: bool = False
    share: float | None = None
    rng: random.Random | None = None

    def matches(self, method: str, params: Params) -> bool:
        if self.count <= 0 or method not in self.methods:
            return False
        if self.chat_id is not None and params.string("chat_id") != self.chat_id:
            return False
        if self.share is not None:
            assert self.rng is not None
            return self.rng.random() < self.share
        return True


_STATUS_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class PendingUpdate:
    update_id: int
    type: str
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.type: self.payload}


class FakeTelegram:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "test_bot",
        *,
        bot_first_name: str = "Test Bot",
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        rate_limits: RateLimits | None = None,
        max_upload_bytes: int = 60 * 1024 * 1024,
        check_spec: bool = True,
    ) -> None:
        # Benchmarks run the fake in the bot's process: they may skip the specification
        # check so its CPU is not counted against the bot (the tests never do).
        self.check_spec = check_spec
        self.token = token
        self.clock = clock
        self.wall_clock = wall_clock
        self.state = FakeState()
        self.bot_user = UserRecord(
            id=int(token.split(":", 1)[0]),
            first_name=bot_first_name,
            username=bot_username,
            is_bot=True,
        )
        self.rate_limits = rate_limits or RateLimits()
        self.api = BotApi(
            self.state, self.bot_user, RateLimiter(self.rate_limits, clock), clock, wall_clock
        )
        self.allowed_updates: list[str] | None = None
        self.get_updates_calls = 0
        self.delivered_batches: list[list[int]] = []  # update_ids of each non-empty answer
        # Requests the Bot API specification refuses (validation.py), for fixtures to assert
        # that the bot never sends one (a refusal the bot swallows would go unnoticed).
        self.spec_refusals: list[ApiCall] = []
        self._max_upload = max_upload_bytes
        self._updates: list[PendingUpdate] = []
        self._next_update_id = 1
        self._confirmed_offset = 0  # every update_id below this was confirmed by the bot
        self._filtered: set[int] = set()  # dropped by allowed_updates: never reach the bot
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Condition()
        # Per-chat wake-ups for wait_for(chat_id=...): a crowd of waiters, each on its own
        # chat, is not woken (and re-checked) by every other chat's requests.
        self._chat_events: dict[int, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None
        self._faults: list[TransportFault] = []
        self._hold = AnswerHold()
        self.url = ""
        # After setWebhook, updates are POSTed to it instead of waiting for getUpdates.
        self.webhook = WebhookDelivery(self)

    # ---- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=self._max_upload)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.webhook.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # End pending long polls first so the runner does not wait for them.
        self._closing = True
        self._hold.release()
        await self._notify()
        for event in self._chat_events.values():
            event.set()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- HTTP ------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        lowered = method.lower()
        try:
            params = await Params.from_request(request)
        except ApiError as exc:  # a body that is not what its content type says
            self.state.calls.append(ApiCall(method, {}, exc.status, exc.description))
            await self._notify()
            return web.json_response(exc.to_dict(), status=exc.status)
        fault = next((f for f in self._faults if f.matches(lowered, params)), None)
        if fault is not None and not fault.after:
            return await self._fail(request, method, params, fault)
        status, description = 200, None
        try:
            try:
                if self.check_spec:
                    validate_request(method, params)  # the specification first
            except ApiError as exc:
                self.spec_refusals.append(
                    ApiCall(method, params.as_log(), exc.status, exc.description)
                )
                raise
            if lowered == "getupdates":
                result: Any = await self._get_updates(params)
            elif lowered == "deletewebhook":
                result = await self._delete_webhook(params)
            elif (handler := self.api.handlers.get(lowered)) is not None:
                result = await handler(params)
            else:
                self.state.unknown_methods.append(method)
                raise errors.method_not_found()
            body: dict[str, Any] = {"ok": True, "result": result}
        except ApiError as exc:
            status, description, body = exc.status, exc.description, exc.to_dict()
        if fault is not None:  # `after`: it ran (and is stored); the answer is lost
            return await self._fail(request, method, params, fault)
        self.state.calls.append(ApiCall(method, params.as_log(), status, description))
        release = self._hold.take(lowered, params) if status == 200 else None
        await self._notify(self._chat_named(lowered, params))
        if release is not None:
            await release.wait()  # stored and shown; the bot hears of it only now
        return web.json_response(body, status=status)

    async def _fail(
        self, request: web.Request, method: str, params: Params, fault: TransportFault
    ) -> web.Response:
        if fault.share is None:
            fault.count -= 1
        self._faults = [f for f in self._faults if f.count > 0]
        status = fault.status or 0  # 0 in tg.calls(): the connection was dropped
        description = _STATUS_TEXT.get(status, "Server Error") if status else "connection dropped"
        self.state.calls.append(ApiCall(method, params.as_log(), status, description))
        await self._notify()
        if fault.status is None:
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection closed, no answer
            raise asyncio.CancelledError  # aiohttp ends the handler quietly
        body = {"ok": False, "error_code": status, "description": description}
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        stored = self.state.file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        if stored.content is not None:
            return web.Response(body=stored.content, content_type="application/octet-stream")
        # A declared size without real bytes: stream zeros so nothing big sits in memory.
        response = web.StreamResponse(headers={"Content-Length": str(stored.size)})
        await response.prepare(request)
        remaining, chunk = stored.size, b"\0" * 65536
        while remaining > 0:
            await response.write(chunk[: min(remaining, len(chunk))])
            remaining -= len(chunk)
        await response.write_eof()
        return response

    async def _notify(self, chat_id: int | None = None) -> None:
        """Wake the waiters: all of wait_for's, and the chat-scoped ones of ``chat_id``."""
        async with self._changed:
            self._changed.notify_all()
        if chat_id is not None and (event := self._chat_events.pop(chat_id, None)):
            event.set()

    def _chat_named(self, method: str, params: Params) -> int | None:
        """The chat whose view a request may have changed (None: no chat's, as getUpdates)."""
        if method == "answercallbackquery":
            query = self.state.callback_queries.get(params.string("callback_query_id") or "")
            return query.message.chat_id if query is not None else None
        value = params.values.get("chat_id")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return None

    # ---- updates ---------------------------------------------------------------------------

    def _confirm(self, offset: int) -> None:
        if offset <= 0:
            return  # negative offsets (count from the end) are not used by aiogram
        self._updates = [u for u in self._updates if u.update_id >= offset]
        self._confirmed_offset = max(self._confirmed_offset, offset)

    def _deliverable(self) -> list[PendingUpdate]:
        if self.allowed_updates:
            for update in self._updates:
                if update.type not in self.allowed_updates:
                    self._filtered.add(update.update_id)
            self._updates = [u for u in self._updates if u.update_id not in self._filtered]
        return self._updates

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        offset = params.integer("offset")
        timeout = params.integer("timeout") or 0
        limit = params.integer("limit") or 100
        allowed = params.json_value("allowed_updates")
        if allowed is not None:
            # Telegram keeps the previous setting when the parameter is absent.
            self.allowed_updates = list(allowed) or None
        async with self._changed:
            self.get_updates_calls += 1
            if self.state.webhook is not None:
                raise ApiError(409, _WEBHOOK_ACTIVE)
            self._poll_generation += 1
            generation = self._poll_generation
            if offset is not None:
                self._confirm(offset)
            self._changed.notify_all()  # wake wait_handled() before long-polling
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(
                        lambda: (
                            self._closing
                            or generation != self._poll_generation
                            or bool(self._deliverable())
                        )
                    ),
                    timeout,
                )
            if generation != self._poll_generation and not self._closing:
                raise ApiError(409, _CONFLICT)
            batch = self._deliverable()[:limit]
            if batch:
                self.delivered_batches.append([u.update_id for u in batch])
            self._changed.notify_all()  # filtered updates count as handled
            return [update.to_dict() for update in batch]

    async def _delete_webhook(self, params: Params) -> bool:
        self.state.webhook = None
        if params.flag("drop_pending_updates"):
            async with self._changed:
                self._confirm(self._next_update_id)
        return True

    async def enqueue(self, *updates: tuple[str, dict[str, Any]]) -> list[int]:
        """Queue updates (type, payload) as one batch; returns their update_ids."""
        async with self._changed:
            ids: list[int] = []
            for update_type, payload in updates:
                update = PendingUpdate(self._next_update_id, update_type, payload)
                self._next_update_id += 1
                ids.append(update.update_id)
                if self.allowed_updates and update_type not in self.allowed_updates:
                    # Telegram never delivers it; count it as handled so nobody waits for it.
                    self._filtered.add(update.update_id)
                    continue
                self._updates.append(update)
            self._changed.notify_all()
            return ids

    # ---- webhook delivery (webhook.py) ------------------------------------------------------

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def changed(self) -> asyncio.Condition:
        """Notified after every answered request and every queued or delivered update."""
        return self._changed

    def pending_for(self, allowed: Iterable[str] | None) -> list[PendingUpdate]:
        """Updates a webhook with ``allowed`` types gets; the others are never delivered
        (counted as handled). Call with ``changed`` held."""
        wanted = set(allowed or ())
        if wanted:
            for update in self._updates:
                if update.type not in wanted:
                    self._filtered.add(update.update_id)
            self._updates = [u for u in self._updates if u.update_id not in self._filtered]
        return self._updates

    async def confirm_delivered(self, update_id: int, ok: bool) -> None:
        """A webhook POST answered: a 2xx confirms the update; waiters re-check either way."""
        async with self._changed:
            if ok:
                self._confirm(update_id + 1)
            self._changed.notify_all()

    def is_handled(self, update_id: int) -> bool:
        return update_id < self._confirmed_offset or update_id in self._filtered

    async def wait_handled(
        self,
        update_id: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Return once the bot confirmed update_id (a later getUpdates offset passed it)."""
        try:
            await self.wait_for(lambda: self.is_handled(update_id), timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"update {update_id} was not handled within {timeout}s (bot confirmed up to "
                f"{self._confirmed_offset - 1}, {self.get_updates_calls} getUpdates so far). "
                "Is the dispatcher polling via run_polling(..., handle_as_tasks=False)?\n"
                + self.describe()
            ) from None

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - the harness API the tests are written against
        *,
        chat_id: int | None = None,
    ) -> T:
        """Re-check predicate after every request the server answers; return its truthy value.

        With ``chat_id``: only after requests that name that chat (or name none) — for
        predicates about that chat's messages, when many players wait at once."""
        if chat_id is not None:
            return await self._wait_for_chat(predicate, timeout, chat_id)
        async with self._changed:
            try:
                result = await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
                return cast(T, result)
            except TimeoutError:
                raise TimeoutError(
                    f"condition not met within {timeout}s\n{self.describe()}"
                ) from None

    async def _wait_for_chat(
        self, predicate: Callable[[], T | None], within: float, chat_id: int
    ) -> T:
        try:
            async with asyncio.timeout(within):
                while not (result := predicate()):
                    if self._closing:
                        raise TimeoutError
                    await self._chat_events.setdefault(chat_id, asyncio.Event()).wait()
        except TimeoutError:
            raise TimeoutError(f"condition not met within {within}s\n{self.describe()}") from None
        return result

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[StoredMessage]:
        """Wait until the bot has delivered at least `count` messages to chat_id; return them."""

        def delivered() -> list[StoredMessage] | None:
            sent = self.bot_messages(chat_id, include_deleted=True)
            return sent if len(sent) >= count else None

        try:
            return await self.wait_for(delivered, timeout=timeout)
        except TimeoutError as exc:
            raise TimeoutError(
                f"chat {chat_id}: expected {count} bot messages, got "
                f"{len(self.bot_messages(chat_id, include_deleted=True))}\n{exc}"
            ) from None

    # ---- players ---------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Анна",
        language_code: str | None = "ru",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """A Telegram user with a private chat with the bot (created on first call)."""
        if user_id not in self.state.users:
            record = UserRecord(user_id, first_name, last_name, username, language_code)
            self.state.users[user_id] = record
            self.state.chats[user_id] = ChatRecord(id=user_id, type="private", user=record)
        return FakeUser(self, self.state.users[user_id])

    def group(self, chat_id: int, title: str = "Team", chat_type: str | None = None) -> FakeGroup:
        if chat_id not in self.state.chats:
            kind = chat_type or ("supergroup" if str(chat_id).startswith("-100") else "group")
            self.state.chats[chat_id] = ChatRecord(id=chat_id, type=kind, title=title)
        return FakeGroup(self, chat_id)

    def add_file(
        self,
        content: bytes | None,
        *,
        kind: str = "document",
        file_name: str | None = None,
        mime_type: str | None = None,
        declared_size: int | None = None,
    ) -> StoredFile:
        return self.state.new_file(
            kind, content, file_name=file_name, mime_type=mime_type, size=declared_size
        )

    def new_user_message(self, chat_id: int, user_id: int, **content: Any) -> StoredMessage:
        """Record a message a user wrote (the caller enqueues its update)."""
        chat = self.state.chats[chat_id]
        if chat.type == "private":
            chat.blocked = False  # writing to a bot you blocked restarts it, as in Telegram
        message = StoredMessage(
            chat=chat,
            message_id=chat.allocate_message_id(),
            from_user=self.state.users[user_id],
            date=int(self.wall_clock()),
            sent_at=self.clock(),
            from_bot=False,
            **content,
        )
        chat.messages[message.message_id] = message
        return message

    def new_callback_query(
        self, user_id: int, message: StoredMessage, data: str
    ) -> CallbackQueryRecord:
        query = CallbackQueryRecord(
            id=f"{self.state.next_id():012d}",
            from_user=self.state.users[user_id],
            message=message,
            data=data,
        )
        self.state.callback_queries[query.id] = query
        return query

    # ---- inspection ------------------------------------------------------------------------

    def chat(self, chat_id: int) -> ChatRecord:
        return self.state.chats[chat_id]

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[StoredMessage]:
        chat = self.state.chats[chat_id]
        return list(chat.messages.values()) if include_deleted else chat.visible_messages()

    def bot_messages(self, chat_id: int, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self.messages(chat_id, include_deleted) if m.from_bot]

    def deliveries(self, chat_id: int | None = None) -> list[Delivery]:
        return [d for d in self.state.deliveries if chat_id is None or d.chat_id == chat_id]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        wanted = method.lower() if method else None
        return [c for c in self.state.calls if wanted is None or c.method.lower() == wanted]

    @property
    def unknown_methods(self) -> list[str]:
        return self.state.unknown_methods

    @property
    def too_many_requests_sent(self) -> int:
        return self.state.too_many_requests_sent

    def unanswered_queries(self) -> list[CallbackQueryRecord]:
        return [q for q in self.state.callback_queries.values() if not q.answered]

    def commands(self, scope: Any = None, language_code: str = "") -> list[tuple[str, str]]:
        """Commands set for a scope (None/"default", a dict, or an aiogram BotCommandScope)."""
        if hasattr(scope, "model_dump"):
            scope = scope.model_dump(mode="json", exclude_none=True)
        key = scope if isinstance(scope, str) else scope_key(scope)
        stored = self.state.commands.get((key, language_code), [])
        return [(c["command"], c["description"]) for c in stored]

    def force_429(
        self, count: int, retry_after: int = 1, methods: Iterable[str] = SEND_METHODS
    ) -> None:
        """Answer the next `count` calls of `methods` (send* by default) with 429."""
        self.api.forced.append(
            ForcedFailures(count, retry_after, frozenset(m.lower() for m in methods))
        )

    def force_error(
        self,
        count: int,
        status: int = 502,
        methods: Iterable[str] = SEND_METHODS,
        *,
        chat_id: int | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next `count` calls of `methods` (send* by default; to `chat_id` only if
        given) with HTTP `status` (a 5xx) without running them; with `after`, run them
        first (a sendMessage is stored and shown) and then answer `status`."""
        self._faults.append(
            TransportFault(
                count,
                status,
                frozenset(m.lower() for m in methods),
                None if chat_id is None else str(chat_id),
                after=after,
            )
        )

    def force_error_share(
        self,
        share: float,
        status: int = 500,
        methods: Iterable[str] = SEND_METHODS,
        *,
        seed: int = 0,
        after: bool = False,
    ) -> None:
        """From now until ``clear_faults``: answer `share` (0..1) of the calls of `methods`
        with HTTP `status` (drawn from a seeded generator: the same run every time)."""
        self._faults.append(
            TransportFault(
                1,
                status,
                frozenset(m.lower() for m in methods),
                after=after,
                share=share,
                rng=random.Random(seed),
            )
        )

    def hold_answers(
        self, methods: Iterable[str] = ("sendMessage",), *, chat_ids: Iterable[int] | None = None
    ) -> None:
        """From now until ``release_answers``: run each matching call (to `chat_ids` only, if
        given) and hold its answer — the message is stored, the bot does not know it yet."""
        self._hold.start(methods, chat_ids)

    def release_answers(self) -> None:
        """Send every held answer; hold no more."""
        self._hold.release()

    @property
    def held(self) -> list[HeldCall]:
        """Every call whose answer was held (a released one stays listed)."""
        return self._hold.held

    def clear_faults(self) -> None:
        """Telegram has recovered: every fault still pending is dropped."""
        self._faults = []

    def force_drop(
        self, count: int, methods: Iterable[str] = SEND_METHODS, *, chat_id: int | None = None
    ) -> None:
        """Close the connection of the next `count` calls of `methods` without an answer
        (and without running them): the client sees a network error."""
        self._faults.append(
            TransportFault(
                count,
                None,
                frozenset(m.lower() for m in methods),
                None if chat_id is None else str(chat_id),
            )
        )

    def describe(self, last: int = 8) -> str:
        """The state in a few lines, for assertion and timeout messages."""
        lines = []
        for chat in self.state.chats.values():
            shown = list(chat.messages.values())[-last:]
            lines.append(f"chat {chat.id} ({chat.type}): {len(chat.messages)} messages")
            lines.extend(f"  {message!r}" for message in shown)
        failed = [c for c in self.state.calls if c.status != 200][-last:]
        if failed:
            lines.append(
                "failed calls: "
                + "; ".join(f"{c.method} {c.status} {c.description}" for c in failed)
            )
        if self.unknown_methods:
            lines.append(f"unknown methods: {self.unknown_methods}")
        if self._updates:
            lines.append(f"unconfirmed updates: {[u.update_id for u in self._updates]}")
        return "\n".join(lines)
