"""Helpers for tests that drive the sandbox: a notification receiver and a manual clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

from aiohttp import web


class ManualPace:
    """A `SandboxConfig(sleep=pace)` whose waits end only when the test says so.

    Every call of the sandbox's life to sleep is recorded and blocks until `release()`;
    `await sleeping(n)` waits (on a condition, at most `within` seconds) until n sleeps
    are blocked, so a test can act "during" a pace step without a real wait.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._waiting: list[asyncio.Future[None]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with self._changed:
            self.delays.append(delay)
            self._waiting.append(future)
            self._changed.notify_all()
        try:
            await future
        finally:
            if future in self._waiting:
                self._waiting.remove(future)

    async def sleeping(self, count: int = 1, *, within: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self._waiting) >= count), within
            )

    def release(self) -> int:
        """End every blocked sleep; returns how many there were."""
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            if not future.done():
                future.set_result(None)
        return len(waiting)


class ManualClock:
    """An aware-UTC clock for `SandboxConfig(now=clock)` that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass(frozen=True)
class Hit:
    key: str
    method: str
    query: str
    body: bytes


class NotificationReceiver:
    """A loopback HTTP server recording every request to `/hook/{key}`.

    `url_for(key)` is what goes into externalNotificationUrl; `await wait_for(n)` waits (on a
    condition, at most `within` seconds) until n requests arrived. `status` is what it answers.
    """

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.hits: list[Hit] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        hit = Hit(
            request.match_info["key"], request.method, request.query_string, await request.read()
        )
        async with self._changed:
            self.hits.append(hit)
            self._changed.notify_all()
        return web.Response(status=self.status, text="ok")

    def url_for(self, key: str) -> str:
        return f"{self.url}/hook/{key}"

    def hits_for(self, key: str) -> list[Hit]:
        return [h for h in self.hits if h.key == key]

    async def wait_for(self, count: int, *, key: str | None = None, within: float = 5.0) -> None:
        def enough() -> bool:
            hits = self.hits if key is None else self.hits_for(key)
            return len(hits) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(enough), within)

    async def __aenter__(self) -> NotificationReceiver:
        app = web.Application()
        app.router.add_route("*", "/hook/{key}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
