"""Held answers: a matching call runs (the message is stored, the chat sees it) and its
answer waits until the test releases it — Telegram has the message, the bot does not know
yet. What a ``kill -9`` of the bot at that moment leaves behind is what crash tests need.

    tg.hold_answers(chat_ids={1001})   # from now on, until release_answers()
    await tg.wait_for(lambda: tg.held)  # the first one is stored and held
    ...
    tg.release_answers()               # every held answer goes out; no more are held
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from .params import Params


@dataclass(frozen=True)
class HeldCall:
    method: str
    chat_id: str | None


class AnswerHold:
    def __init__(self) -> None:
        self.held: list[HeldCall] = []  # every call held so far (released ones too)
        self._methods: frozenset[str] = frozenset()
        self._chats: frozenset[str] | None = None
        self._released = asyncio.Event()

    def start(self, methods: Iterable[str], chat_ids: Iterable[int] | None) -> None:
        self._methods = frozenset(m.lower() for m in methods)
        self._chats = None if chat_ids is None else frozenset(str(c) for c in chat_ids)
        self._released = asyncio.Event()

    def take(self, method: str, params: Params) -> asyncio.Event | None:
        """The event to wait for before answering, if this call is held (recorded here)."""
        if method.lower() not in self._methods:
            return None
        chat = params.string("chat_id")
        if self._chats is not None and chat not in self._chats:
            return None
        self.held.append(HeldCall(method, chat))
        return self._released

    def release(self) -> None:
        self._methods = frozenset()
        self._released.set()
