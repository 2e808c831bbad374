"""The production start-up asks Telegram only for update types Telegram knows: aiogram
resolves the used update types from the routers, where aiogram-dialog registers its internal
"aiogd_update" event; getUpdates with it is refused."""

from __future__ import annotations

import json

from api_client.sandbox import SandboxServer
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram
from tests.fake_telegram.spec import load_spec


async def test_polling_asks_for_telegram_update_types_only(
    fake_tg: FakeTelegram, sandbox: SandboxServer, db_url: str
) -> None:
    async with run_app(app_settings(fake_tg, db_url)):
        # A long poll is logged when answered: an update answers it at once.
        await fake_tg.user(555201, language_code="en").send_text("hello")
    first = fake_tg.calls("getUpdates")[0]
    raw = first.params["allowed_updates"]  # a JSON body's list, or a form's JSON string
    allowed = json.loads(raw) if isinstance(raw, str) else raw
    assert "aiogd_update" not in allowed
    assert {"message", "callback_query"} <= set(allowed) <= load_spec().update_types
    assert {c.status for c in fake_tg.calls("getUpdates")} == {200}
