"""Telegram's side of a webhook: after setWebhook, updates are POSTed to its URL.

As Telegram does: each pending update is POSTed as JSON to the URL set by setWebhook, with
``X-Telegram-Bot-Api-Secret-Token`` when a secret was set, only the ``allowed_updates`` types;
a 2xx answer confirms it (as a getUpdates offset would), anything else (an error status, a
refused or dropped connection) is retried after ``retry_delay``. One request at a time and in
update order (Telegram's ``max_connections=1``), so a test knows which update went where.

An update confirmed this way was *received* by the bot: aiogram's webhook handler answers
before it handles the update (``handle_in_background``), so tests wait for the bot's visible
answer, not for ``wait_handled`` alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from .server import FakeTelegram, PendingUpdate
    from .state import WebhookRecord

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update: the status answered, or None with the error's type name."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    at: float  # time.monotonic() when the answer (or the failure) came


class WebhookDelivery:
    """The delivery loop of one FakeTelegram (started and stopped by it)."""

    def __init__(
        self, tg: FakeTelegram, *, retry_delay: float = 0.2, timeout: float = 30.0
    ) -> None:
        self.tg = tg
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.attempts: list[WebhookAttempt] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fake-telegram-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def delivered(self) -> list[WebhookAttempt]:
        """The attempts that confirmed their update (2xx), in order."""
        return [a for a in self.attempts if a.status is not None and 200 <= a.status < 300]

    async def _next(self) -> tuple[WebhookRecord, PendingUpdate] | None:
        """Wait for a webhook and an update to POST to it; None when the fake closes."""
        tg = self.tg
        found: tuple[WebhookRecord, PendingUpdate] | None = None

        def ready() -> bool:
            nonlocal found
            if tg.closing:
                return True
            hook = tg.state.webhook
            if hook is None:
                return False
            pending = tg.pending_for(hook.allowed_updates)
            found = (hook, pending[0]) if pending else None
            return found is not None

        async with tg.changed:
            await tg.changed.wait_for(ready)
        return None if tg.closing else found

    async def _run(self) -> None:
        http: aiohttp.ClientSession | None = None  # made at the first webhook update only
        try:
            while (item := await self._next()) is not None:
                if http is None:
                    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(self.timeout))
                await self._post(http, *item)
        finally:
            if http is not None:
                await http.close()

    async def _post(
        self, http: aiohttp.ClientSession, hook: WebhookRecord, update: PendingUpdate
    ) -> None:
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        status: int | None = None
        error: str | None = None
        try:
            async with http.post(hook.url, json=update.to_dict(), headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        self.attempts.append(
            WebhookAttempt(update.update_id, hook.url, status, error, time.monotonic())
        )
        ok = status is not None and 200 <= status < 300
        await self.tg.confirm_delivered(update.update_id, ok)
        if not ok:
            await asyncio.sleep(self.retry_delay)  # Telegram's back-off, not a synchronisation
