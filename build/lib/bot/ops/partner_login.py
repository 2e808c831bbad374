"""``python -m bot partner-login``: the partner API's SMS-code authorisation on a terminal.

Asks for the partner phone, requests the SMS code (``/api/v1/access/validation-code`` of
TMAPI_BASE_URL), asks for the code, exchanges it at TMAPI_AUTH_URL (``grant_type=password``,
TMAPI_CLIENT_ID) and stores the pair in the database, where it wins over the environment
from the next start on. In sandbox mode (TMAPI_BASE_URL empty) both steps go to a sandbox
started for the occasion; its "SMS" code is printed, since no SMS is sent, and nothing is
stored: a sandbox pair in the database would win over the real TMAPI_ACCESS_TOKEN once the
operator switches to the real API.

Nothing printed or logged carries the tokens; the phone is echoed masked.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import httpx

from api_client.auth import exchange_sms_code, request_validation_code
from api_client.errors import AuthError, PartnerApiError
from api_client.models import Phone
from bot.i18n import I18n
from bot.input_parsing.errors import InputError
from bot.input_parsing.phone import mask_phone, parse_phone
from bot.ops import FAIL, OK
from bot.rendering.partner_errors import partner_error_text
from bot.settings import Settings
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.repositories import TokenRepository

Ask = Callable[[str], Awaitable[str]]
Say = Callable[[str], None]

MAX_ATTEMPTS = 3
HTTP_TIMEOUT = 20.0


def _plain(exc: PartnerApiError) -> str:
    """The error in plain English words (the sentences of the bot's English locale)."""
    return partner_error_text(I18n().translator("en"), exc)


class _TerminalInput:
    """Lines of stdin read through the event loop, so Ctrl-C ends the command at once.

    Not ``input()`` in a worker thread: ``asyncio.run`` waits for its executor's threads at
    exit, so a Ctrl-C at a prompt hung until Enter was pressed (and a daemon thread blocked
    in ``input()`` can abort the interpreter at exit). Not ``input()`` on the loop's thread
    either: ``asyncio.run``'s SIGINT handler only cancels the task, and a signal landing
    between the prompt and the read is lost until Enter. Here the loop watches the file
    descriptor; its SIGINT handler cancels the waiting task, the exit stack closes, and
    ``asyncio.run`` raises KeyboardInterrupt (exit 130). Our own line buffer, since two lines
    may arrive in one read.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._eof = False

    async def ask(self, prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        while b"\n" not in self._buffer:
            if self._eof:
                if not self._buffer:
                    raise EOFError
                break
            chunk = await self._read(sys.stdin.fileno())
            self._eof = not chunk
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace").rstrip("\r")

    @staticmethod
    async def _read(fd: int) -> bytes:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(fd, wake)
        except (OSError, ValueError, NotImplementedError):
            # A regular file (stdin redirected from one) cannot be watched; it never blocks.
            return os.read(fd, 4096)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        return os.read(fd, 4096)


def _stdout_say(line: str) -> None:
    print(line, flush=True)


async def partner_login(
    settings: Settings,
    *,
    ask: Ask | None = None,
    say: Say = _stdout_say,
    http: httpx.AsyncClient | None = None,
) -> int:
    """0 when a pair was stored (sandbox: when the flow worked); 1 on a refusal or an
    unreachable service; 2 on settings."""
    if ask is None:
        ask = _TerminalInput().ask
    async with AsyncExitStack() as stack:
        if http is None:
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=HTTP_TIMEOUT))
        client_id = settings.tmapi_client_id
        if settings.is_sandbox:
            from api_client.sandbox import SandboxConfig, SandboxServer

            sandbox = await stack.enter_async_context(SandboxServer(SandboxConfig(pace=None)))
            base_url, token_url = sandbox.url, sandbox.url + "/token"
            client_id = client_id or "sandbox"
            say("sandbox mode (TMAPI_BASE_URL is empty): logging in to a temporary sandbox")
        else:
            base_url, token_url = settings.tmapi_base_url, settings.tmapi_auth_url
            if not token_url:
                say(f"{FAIL} TMAPI_AUTH_URL is not set: the token endpoint is needed for login")
                return 2
            if not client_id:
                say(f"{FAIL} TMAPI_CLIENT_ID is not set: the token endpoint needs it")
                return 2

        phone = await _ask_phone(settings, ask, say)
        if phone is None:
            return 1
        try:
            await request_validation_code(http, base_url, Phone.from_e164(phone))
        except PartnerApiError as exc:
            say(f"{FAIL} requesting the SMS code failed: {_plain(exc)}")
            return 1
        say(f"{OK} SMS code requested for {mask_phone(phone)}")
        if settings.is_sandbox:
            say(f"  (sandbox: the code is {sandbox.sandbox.last_sms_code})")

        for attempt in range(1, MAX_ATTEMPTS + 1):
            code = "".join((await ask("SMS code: ")).split())
            if not code:
                say("  the code is empty")
                continue
            try:
                pair = await exchange_sms_code(http, token_url, client_id, phone, code)
            except AuthError:
                left = MAX_ATTEMPTS - attempt
                say(f"{FAIL} the token endpoint refused the code" + (
                    f"; {left} attempt(s) left" if left else ""
                ))
                continue
            except PartnerApiError as exc:
                say(f"{FAIL} the token endpoint failed: {_plain(exc)}")
                return 1
            break
        else:
            return 1

        if settings.is_sandbox:
            say(f"{OK} the login flow works (sandbox); nothing was stored")
            say("  set TMAPI_BASE_URL, TMAPI_AUTH_URL and TMAPI_CLIENT_ID and run it again "
                "for the real partner API")
            return 0
        await upgrade(settings.database_url)  # partner-login may come before the first run
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                repo = TokenRepository(session)
                await repo.lock_for_refresh()  # a running bot refreshing meanwhile waits
                await repo.save(pair)
                await session.commit()
        finally:
            await engine.dispose()
        expires = pair.expires_at.strftime("%Y-%m-%d %H:%M UTC") if pair.expires_at else "unknown"
        say(f"{OK} token pair stored in the database (access token expires {expires})")
        say("  restart the bot so it uses the new pair")
        return 0
    return 1  # unreachable; keeps type checkers calm about the context manager


async def _ask_phone(settings: Settings, ask: Ask, say: Say) -> str | None:
    for _ in range(MAX_ATTEMPTS):
        text = await ask("partner phone (the account's login): ")
        try:
            return parse_phone(text, settings.default_phone_region).e164
        except InputError:
            say("  not a phone number; type it as +7 909 970-85-93")
    say(f"{FAIL} no valid phone given")
    return None


def main(settings: Settings, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR)  # the prompts and results are the output
    try:
        return asyncio.run(partner_login(settings))
    except EOFError:
        print(f"{FAIL} input ended before the login was complete", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{FAIL} interrupted: nothing was stored", file=sys.stderr)
        return 130
