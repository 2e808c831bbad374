"""An unexpected error after a button press that was already answered still gets the apology:
the query cannot carry it any more, so it comes as a chat message (never silence)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.dialogs.answered import answer_early
from tests.bot_fixtures import ADMIN_ID, BotHarness

APOLOGY = "Sorry, something went wrong"


def _router() -> Router:
    router = Router(name="test.press_boom")

    @router.message(Command("buttons"))
    async def buttons(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Early", callback_data="boom:early")],
                [InlineKeyboardButton(text="Plain", callback_data="boom:plain")],
                [InlineKeyboardButton(text="Unanswered", callback_data="boom:none")],
            ]
        )
        await message.answer("Press one", reply_markup=markup)

    @router.callback_query(F.data == "boom:early")
    async def early(query: CallbackQuery, **data: Any) -> None:
        await answer_early(query, data)  # recorded in answered_queries
        raise RuntimeError("after an early answer")

    @router.callback_query(F.data == "boom:plain")
    async def plain(query: CallbackQuery) -> None:
        await query.answer("Working…")  # answered, but not recorded
        raise RuntimeError("after a plain answer")

    @router.callback_query(F.data == "boom:none")
    async def unanswered(query: CallbackQuery) -> None:
        raise RuntimeError("before any answer")

    return router


@pytest.fixture
def routers_for_test() -> list[Router]:
    return [_router()]


@pytest.mark.parametrize("button", ["Early", "Plain"])
async def test_answered_press_then_error_gets_the_apology_as_a_message(
    running_bot: BotHarness, button: str
) -> None:
    admin = running_bot.fake_tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("buttons")
    await admin.press(button)
    last = admin.last_bot_message()
    assert APOLOGY in (last.text or ""), running_bot.fake_tg.describe()
    assert last.text != "Press one"


async def test_unanswered_press_then_error_gets_the_apology_as_an_alert(
    running_bot: BotHarness,
) -> None:
    tg = running_bot.fake_tg
    admin = tg.user(ADMIN_ID, language_code="en")
    await admin.send_command("buttons")
    await admin.press("Unanswered")
    assert APOLOGY in (admin.alerts()[-1].text or "")
    assert (admin.last_bot_message().text or "").startswith("Press one")  # the alert sufficed
    assert not tg.unanswered_queries()
