"""Running the emulator on a loopback port."""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from .config import SandboxConfig
from .routes import create_app
from .state import Sandbox


class SandboxServer:
    """`async with SandboxServer(config) as server:` → `server.url`, `server.sandbox`.

    Listens on 127.0.0.1 (port 0 = a free one), so clients talk to it over real HTTP.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.sandbox = sandbox or Sandbox(config)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.sandbox.reopen()
        # A short shutdown timeout: held "timeout" answers are released on shutdown anyway.
        runner = web.AppRunner(create_app(self.sandbox), shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        if self.port == 0:
            self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.sandbox.begin_close()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        await self.sandbox.close()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
