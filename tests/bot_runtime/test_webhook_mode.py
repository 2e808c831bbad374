"""Webhook mode end to end (DESIGN.md TELEGRAM_WEBHOOK_SECRET): the production start-up sets
the webhook at PUBLIC_URL/telegram/webhook with the secret, takes updates POSTed there only
with that secret, and never polls getUpdates."""

from __future__ import annotations

from typing import Any

import httpx

from api_client.sandbox import SandboxServer
from bot.app.telegram import WEBHOOK_PATH
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram.state import WebhookRecord

SECRET = "webhook-Secret_42-0123456789abcdef"  # 32+ characters (bot/settings.py)
PUBLIC_URL = "https://bot.example.org"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def start_update(tg: FakeTelegram, user_id: int, update_id: int) -> dict[str, Any]:
    """A stranger's /start as Telegram would POST it to the webhook (not queued for polling)."""
    tg.user(user_id, first_name="Stranger", language_code="en")
    message = tg.new_user_message(user_id, user_id, text="/start", command_entity=True)
    return {"update_id": update_id, "message": message.to_dict()}


async def test_webhook_mode_sets_the_hook_and_takes_only_secret_updates(
    fake_tg: FakeTelegram, sandbox: SandboxServer, db_url: str
) -> None:
    settings = app_settings(
        fake_tg, db_url, TELEGRAM_WEBHOOK_SECRET=SECRET, PUBLIC_URL=PUBLIC_URL
    )
    assert settings.webhook_mode
    async with run_app(settings) as rt:
        hook: WebhookRecord = await fake_tg.wait_for(lambda: fake_tg.state.webhook)
        assert hook.url == f"{PUBLIC_URL}{WEBHOOK_PATH}" == "https://bot.example.org/telegram/webhook"
        assert hook.secret_token == SECRET
        assert hook.allowed_updates and "message" in hook.allowed_updates
        assert "aiogd_update" not in hook.allowed_updates  # aiogram-dialog's, not Telegram's
        [call] = fake_tg.calls("setWebhook")
        assert call.status == 200

        endpoint = f"http://127.0.0.1:{rt.http_port}{WEBHOOK_PATH}"
        intruder, stranger = 555101, 555102
        async with httpx.AsyncClient(timeout=5.0) as http:
            wrong = await http.post(
                endpoint, json=start_update(fake_tg, intruder, 1), headers={HEADER: "wrong"}
            )
            missing = await http.post(endpoint, json=start_update(fake_tg, intruder, 2))
            assert wrong.status_code in (401, 403)
            assert missing.status_code in (401, 403)

            good = await http.post(
                endpoint, json=start_update(fake_tg, stranger, 3), headers={HEADER: SECRET}
            )
            assert good.status_code == 200

        [answer] = await fake_tg.wait_for_messages(stranger, 1)
        assert "You have no access" in answer.text
        assert str(stranger) in answer.text
        # The refused updates reached no handler: the accepted one, sent after, is answered.
        assert fake_tg.bot_messages(intruder, include_deleted=True) == []
        assert fake_tg.get_updates_calls == 0
    # Nothing polled at any point, nor on the way down.
    assert fake_tg.get_updates_calls == 0
    assert fake_tg.calls("getUpdates") == []


async def test_replicas_set_the_webhook_once_and_again_on_a_new_secret(
    fake_tg: FakeTelegram, sandbox: SandboxServer, db_url: str
) -> None:
    """Several replicas on one database (issue 13): the first sets the hook; one started
    beside it with the same settings sees it set and leaves it; a rotated secret is set
    again by the first replica that starts with it (Telegram never shows the secret back)."""
    settings = app_settings(
        fake_tg, db_url, TELEGRAM_WEBHOOK_SECRET=SECRET, PUBLIC_URL=PUBLIC_URL
    )
    async with run_app(settings):
        await fake_tg.wait_for(lambda: fake_tg.state.webhook)
        async with run_app(settings):
            await fake_tg.wait_for(lambda: len(fake_tg.calls("getWebhookInfo")) == 2)
    assert len(fake_tg.calls("setWebhook")) == 1

    rotated = SECRET[::-1]
    async with run_app(app_settings(
        fake_tg, db_url, TELEGRAM_WEBHOOK_SECRET=rotated, PUBLIC_URL=PUBLIC_URL
    )):
        await fake_tg.wait_for(lambda: len(fake_tg.calls("setWebhook")) == 2)
        hook: WebhookRecord = fake_tg.state.webhook
        assert hook.secret_token == rotated
