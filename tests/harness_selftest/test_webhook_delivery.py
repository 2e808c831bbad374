"""The fake Bot API delivers updates by webhook once one is set, as Telegram does: POSTed to
the URL with the secret header, only the allowed types, in order, a failed POST retried."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web

from tests.fake_telegram import FakeTelegram
from tests.fake_telegram.webhook import SECRET_HEADER

SECRET = "selftest-secret-0123456789abcdefXYZ"


class Receiver:
    """A webhook endpoint recording what it got; answers ``statuses`` in turn, then 200."""

    def __init__(self) -> None:
        self.got: list[tuple[str | None, dict[str, Any]]] = []
        self.statuses: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((request.headers.get(SECRET_HEADER), json.loads(await request.read())))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield rec
    await runner.cleanup()


async def test_updates_go_to_the_webhook_with_the_secret(
    tg: FakeTelegram, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token=SECRET, allowed_updates=["message"])
    user = tg.user(501)
    receiver.statuses = [500]  # the first POST fails: Telegram sends the update again
    first = await user.send_text("one")  # returns once a POST was answered 2xx
    await user.press_data("ignored", first.message_id, wait=False)  # not an allowed type
    await user.send_text("two")

    texts = [body["message"]["text"] for _, body in receiver.got]
    assert texts == ["one", "one", "two"]
    assert {secret for secret, _ in receiver.got} == {SECRET}
    assert [a.status for a in tg.webhook.attempts] == [500, 200, 200]
    assert [a.update_id for a in tg.webhook.delivered()] == [1, 3]
    assert tg.is_handled(2)  # the callback query was filtered out, never POSTed
    assert tg.get_updates_calls == 0


async def test_updates_queued_without_a_webhook_wait_for_one(
    tg: FakeTelegram, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    await bot.delete_webhook()
    user = tg.user(502)
    queued = await user.send_text("queued", wait=False)
    await bot.set_webhook(receiver.url)
    await tg.wait_for(lambda: tg.webhook.delivered())
    assert [body["message"]["message_id"] for _, body in receiver.got] == [queued.message_id]
    assert receiver.got[0][0] is None  # no secret set, no header
