"""A round-robin reverse proxy in front of the replicas, as nginx's default upstream is.

Each request goes to the next replica in turn (``names``, whatever its path). A replica that
refuses the connection (dead, restarting) is skipped for the next one, as nginx's
``proxy_next_upstream error`` does; a GET that fails after it was sent is tried on the next
one too (nginx retries idempotent requests), a POST is answered 502 (Telegram sends it again).
``routed`` records where each request went and what came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp import web

FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


@dataclass(frozen=True)
class Routed:
    method: str
    path: str
    replica: str
    status: int | None  # None: the replica could not be reached or did not answer


class RoundRobinProxy:
    def __init__(self) -> None:
        self.upstreams: dict[str, str] = {}  # replica name → its base URL
        self.names: list[str] = []  # the round-robin order
        self.routed: list[Routed] = []
        self.url = ""
        self._turn = 0
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    def set_upstream(self, name: str, url: str) -> None:
        if name not in self.names:
            self.names.append(name)
        self.upstreams[name] = url

    def routed_to(self, path_prefix: str) -> list[Routed]:
        return [r for r in self.routed if r.path.startswith(path_prefix)]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers}
        headers["X-Forwarded-For"] = request.remote or ""
        first = self._turn
        self._turn += 1
        for step in range(len(self.names)):
            name = self.names[(first + step) % len(self.names)]
            target = self.upstreams[name] + request.path_qs
            try:
                async with self._http.request(
                    request.method, target, data=body, headers=headers, allow_redirects=False
                ) as answer:
                    payload = await answer.read()
                    status = answer.status
                    content_type = answer.headers.get("Content-Type")
            except aiohttp.ClientConnectorError:
                self.routed.append(Routed(request.method, request.path, name, None))
                continue  # never reached it: the next one
            except (aiohttp.ClientError, TimeoutError):
                self.routed.append(Routed(request.method, request.path, name, None))
                if request.method == "GET":
                    continue
                return web.Response(status=502, text="bad gateway")
            self.routed.append(Routed(request.method, request.path, name, status))
            response = web.Response(status=status, body=payload)
            if content_type:
                response.headers["Content-Type"] = content_type
            return response
        return web.Response(status=502, text="no replica answered")

    async def __aenter__(self) -> RoundRobinProxy:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
