"""The fake refuses what the Bot API specification (tests/fake_telegram/botapi/api.json)
refuses: unknown parameters, missing required ones, values of the wrong type, malformed
nested objects, and the enumerations the documentation gives in prose."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from tests.fake_telegram import ApiError, FakeTelegram
from tests.fake_telegram.params import Params, Upload
from tests.fake_telegram.spec import load_spec
from tests.fake_telegram.validation import validate_request

BUTTON = "Bad Request: can't parse inline keyboard button: "


def check(method: str, uploads: dict[str, Upload] | None = None, **values: Any) -> None:
    validate_request(method, Params(values, uploads or {}))


def refused(method: str, uploads: dict[str, Upload] | None = None, **values: Any) -> str:
    with pytest.raises(ApiError) as caught:
        check(method, uploads, **values)
    assert caught.value.status == 400
    return caught.value.description


def markup(*rows: list[dict[str, Any]]) -> str:
    return json.dumps({"inline_keyboard": list(rows)})


def test_the_specification_is_parsed_once() -> None:
    spec = load_spec()
    assert spec is load_spec()
    assert spec.version == "Bot API 10.1"
    assert {"typing", "upload_document", "upload_video_note"} <= spec.chat_actions
    assert {"callback_data", "url", "web_app", "copy_text"} <= spec.button_actions
    assert not {"text", "style", "icon_custom_emoji_id"} & spec.button_actions
    assert {"message", "callback_query"} <= spec.update_types
    assert "update_id" not in spec.update_types
    assert spec.types["BotCommandScopeChat"].discriminator == ("type", "chat")


def test_what_aiogram_sends_passes() -> None:
    check(
        "sendMessage",
        chat_id="1001",
        text="<b>hi</b>",
        parse_mode="HTML",
        reply_markup=markup([{"text": "a", "callback_data": "x"}, {"text": "b", "url": "https://e.x"}]),
        link_preview_options='{"is_disabled": true}',
        reply_parameters='{"message_id": 5, "allow_sending_without_reply": true}',
        disable_notification="true",
    )
    check("SENDMESSAGE", chat_id="@someone", text="case does not matter")  # nor does case
    preview = {"is_disabled": True}  # a JSON body keeps its types
    check("editMessageText", chat_id=1, message_id=2, text="x", link_preview_options=preview)
    check("getUpdates", offset="3", timeout="1", allowed_updates='["message", "callback_query"]')
    check("sendLocation", chat_id="1", latitude="55.75", longitude="37.6")
    check("setMyCommands", commands='[{"command": "start", "description": "Start"}]',
          scope='{"type": "chat", "chat_id": 5}', language_code="en")
    check("setChatMenuButton", chat_id="5", menu_button='{"type": "commands"}')
    check("sendMessage", chat_id="1", text="reply keyboard",
          reply_markup='{"keyboard": [[{"text": "Share", "request_contact": true}]]}')
    check("sendMessage", chat_id="1", text="gone", reply_markup='{"remove_keyboard": true}')


def test_unknown_and_retired_parameters_are_refused() -> None:
    assert refused("sendMessage", chat_id="1", text="x", colour="red") == (
        'Bad Request: unknown parameter "colour" for method sendMessage'
    )
    # Retired in Bot API 7.0 for link_preview_options; aiogram still accepts it.
    assert refused(
        "editMessageText", chat_id="1", message_id="2", text="x", disable_web_page_preview="true"
    ) == 'Bad Request: unknown parameter "disable_web_page_preview" for method editMessageText'


@pytest.mark.parametrize("method", ["getUpdates", "setWebhook"])
def test_allowed_updates_are_update_types(method: str) -> None:
    extra = {"url": "https://bot.example.org/hook"} if method == "setWebhook" else {}
    assert refused(method, allowed_updates='["message", "aiogd_update"]', **extra) == (
        'Bad Request: allowed_updates: unsupported update type "aiogd_update"'
    )


def test_required_parameters() -> None:
    assert refused("sendMessage", chat_id="1") == "Bad Request: message text is empty"
    assert refused("sendMessage", text="x") == "Bad Request: chat_id is empty"
    assert refused("answerCallbackQuery", text="x") == (
        "Bad Request: parameter callback_query_id is required"
    )
    assert refused("setMyCommands") == "Bad Request: parameter commands is required"


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "", "True "])
def test_booleans_are_booleans(value: str) -> None:
    if value == "":
        check("sendMessage", chat_id="1", text="x", disable_notification=value)  # = absent
        return
    assert refused("sendMessage", chat_id="1", text="x", disable_notification=value) == (
        "Bad Request: invalid disable_notification specified: must be of type Boolean"
    )


@pytest.mark.parametrize("value", ["true", "False", "1", "0", True, False])
def test_booleans_telegram_reads(value: Any) -> None:
    check("sendMessage", chat_id="1", text="x", disable_notification=value)


def test_scalars_have_their_types() -> None:
    assert refused("editMessageText", chat_id="1", message_id="two", text="x") == (
        "Bad Request: invalid message_id specified: must be of type Integer"
    )
    assert refused("sendLocation", chat_id="1", latitude="north", longitude="1") == (
        "Bad Request: invalid latitude specified: must be of type Float"
    )
    assert refused("sendMessage", chat_id=1.5, text="x") == (  # a JSON body keeps its types
        "Bad Request: invalid chat_id specified: must be of type Integer or String"
    )
    assert refused("sendMessage", chat_id=1, text=5) == (
        "Bad Request: invalid text specified: must be of type String"
    )


def test_inline_keyboard_must_be_an_array_of_arrays() -> None:
    expected = (
        'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of '
        "Arrays"
    )
    flat = json.dumps({"inline_keyboard": [{"text": "a", "callback_data": "x"}]})
    for value in (flat, '{"inline_keyboard": "x"}', '{"inline_keyboard": {"a": 1}}'):
        assert refused("sendMessage", chat_id="1", text="x", reply_markup=value) == expected
    strings = '{"inline_keyboard": [["a"]]}'
    assert refused("sendMessage", chat_id="1", text="x", reply_markup=strings) == (
        BUTTON + "InlineKeyboardButton should be an Object"
    )
    assert refused("sendMessage", chat_id="1", text="x", reply_markup="{not json") == (
        "Bad Request: can't parse reply keyboard markup JSON object"
    )


def test_a_button_has_exactly_one_action() -> None:
    none = markup([{"text": "label only"}])
    assert refused("sendMessage", chat_id="1", text="x", reply_markup=none) == (
        BUTTON + "Text buttons are unallowed in the inline keyboard"
    )
    style_only = markup([{"text": "a", "style": "danger", "icon_custom_emoji_id": "1"}])
    assert "Text buttons are unallowed" in refused(
        "sendMessage", chat_id="1", text="x", reply_markup=style_only
    )
    two = markup([{"text": "a", "callback_data": "x", "url": "https://e.x"}])
    assert refused("editMessageReplyMarkup", chat_id="1", message_id="1", reply_markup=two) == (
        BUTTON + "exactly one action field must be used, got callback_data, url"
    )
    no_text = markup([{"callback_data": "x"}])
    assert refused("sendMessage", chat_id="1", text="x", reply_markup=no_text) == (
        BUTTON + 'Can\'t find field "text"'
    )
    bad_text = markup([{"text": 5, "callback_data": "x"}])
    assert refused("sendMessage", chat_id="1", text="x", reply_markup=bad_text) == (
        BUTTON + 'Field "text" must be of type String'
    )
    unknown = markup([{"text": "a", "callback_data": "x", "colour": "red"}])
    assert refused("sendMessage", chat_id="1", text="x", reply_markup=unknown) == (
        BUTTON + 'InlineKeyboardButton: unknown field "colour"'
    )


def test_nested_objects() -> None:
    assert refused(
        "sendMessage", chat_id="1", text="x", link_preview_options='{"is_disabled": "yes"}'
    ) == (
        "Bad Request: can't parse link_preview_options JSON object: "
        'Field "is_disabled" must be of type Boolean'
    )
    assert refused("sendMessage", chat_id="1", text="x", reply_parameters='{"chat_id": 1}') == (
        "Bad Request: can't parse reply_parameters JSON object: Can't find field \"message_id\""
    )
    assert refused(
        "sendMessage", chat_id="1", text="x", entities='[{"type": "bold", "offset": 0}]'
    ) == "Bad Request: can't parse entities JSON object: Can't find field \"length\""
    assert refused("setMyCommands", commands='[{"command": "start"}]') == (
        "Bad Request: can't parse commands JSON object: Can't find field \"description\""
    )
    assert refused("setMyCommands", commands='{"command": "start"}') == (
        "Bad Request: can't parse commands JSON object: must be of type Array of BotCommand"
    )
    assert refused("setMyCommands", commands="start") == (
        "Bad Request: can't parse commands JSON object"
    )


@pytest.mark.parametrize("mode", ["html5", "markdown3", "None"])
def test_parse_mode_is_one_telegram_knows(mode: str) -> None:
    assert refused("sendMessage", chat_id="1", text="x", parse_mode=mode) == (
        "Bad Request: unsupported parse_mode"
    )
    nested = json.dumps({"message_id": 1, "quote": "q", "quote_parse_mode": mode})
    assert refused("sendMessage", chat_id="1", text="x", reply_parameters=nested) == (
        "Bad Request: unsupported parse_mode"
    )


@pytest.mark.parametrize("mode", ["HTML", "html", "MarkdownV2", "Markdown", ""])
def test_parse_modes_telegram_knows(mode: str) -> None:
    check("sendMessage", chat_id="1", text="x", parse_mode=mode)


def test_chat_actions() -> None:
    for action in load_spec().chat_actions:
        check("sendChatAction", chat_id="1", action=action)
    assert refused("sendChatAction", chat_id="1", action="dancing") == (
        "Bad Request: wrong parameter action in request"
    )
    assert refused("sendChatAction", chat_id="1", action="TYPING") == (
        "Bad Request: wrong parameter action in request"
    )


def test_command_scopes_by_their_type() -> None:
    commands = '[{"command": "start", "description": "Start"}]'
    for scope in ('{"type": "default"}', '{"type": "all_private_chats"}',
                  '{"type": "chat_member", "chat_id": "@group", "user_id": 5}'):
        check("setMyCommands", commands=commands, scope=scope)
    assert refused("setMyCommands", commands=commands, scope='{"type": "everyone"}') == (
        "Bad Request: can't parse scope JSON object: BotCommandScope: unsupported type "
        '"everyone"'
    )
    assert refused("deleteMyCommands", scope='{"type": "chat"}') == (
        "Bad Request: can't parse scope JSON object: Can't find field \"chat_id\""
    )
    assert refused("getMyCommands", scope='{"chat_id": 5}') == (
        "Bad Request: can't parse scope JSON object: BotCommandScope: Can't find field \"type\""
    )
    assert refused("getMyCommands", scope='{"type": "default", "chat_id": 5}') == (
        "Bad Request: can't parse scope JSON object: BotCommandScopeDefault: unknown field "
        '"chat_id"'
    )


def test_input_files() -> None:
    upload = {"f1": Upload("a.pdf", "application/pdf", b"%PDF")}
    check("sendDocument", upload, chat_id="1", document="attach://f1")
    check("sendDocument", {"document": upload["f1"]}, chat_id="1")  # uploaded as the field
    check("sendDocument", chat_id="1", document="BQACAgIAAxkBAAI")  # a file_id
    assert refused("sendDocument", chat_id="1", document="attach://f1") == (
        "Bad Request: document: there is no file attach://f1 in the request"
    )
    assert refused("sendDocument", upload, chat_id="1", document="BQACAgIAAxkBAAI") == (
        'Bad Request: unknown parameter "f1" for method sendDocument'
    )
    assert refused("sendDocument", chat_id="1") == "Bad Request: parameter document is required"
    media = json.dumps([{"type": "document", "media": "attach://f1"},
                        {"type": "document", "media": "BQACAgIAAxkBAAI"}])
    check("sendMediaGroup", upload, chat_id="1", media=media)
    assert refused("sendMediaGroup", chat_id="1", media='[{"type": "sticker", "media": "x"}]') == (
        "Bad Request: can't parse media JSON object: must be of type Array of InputMediaAudio "
        "or Array of InputMediaDocument or Array of InputMediaLivePhoto or Array of "
        "InputMediaPhoto or Array of InputMediaVideo"
    )


async def post(tg: FakeTelegram, method: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{tg.url}/bot{tg.token}/{method}", **kwargs)
        return response.status, await response.json()


async def test_malformed_input_gets_a_400_json_answer(tg: FakeTelegram) -> None:
    chat = tg.user(1).chat_id
    # An inline_keyboard that is not a list of lists once crashed the fake (a bare 500).
    status, body = await post(
        tg, "sendMessage",
        data={"chat_id": str(chat), "text": "x", "reply_markup": '{"inline_keyboard": [1]}'},
    )
    assert (status, body["ok"], body["error_code"]) == (400, False, 400)
    assert "Array of Arrays" in body["description"]
    status, body = await post(
        tg, "sendMessage", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    description = "Bad Request: can't parse JSON request body"
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": description})
    status, body = await post(tg, "sendMessage", json=["not", "an", "object"])
    assert status == 400
    assert [c.status for c in tg.calls("sendMessage")] == [400, 400, 400]
    assert len(tg.spec_refusals) == 1  # the JSON bodies were refused before the spec check
    assert tg.bot_messages(chat) == []


async def test_the_real_bot_gets_telegram_errors(tg: FakeTelegram, bot: Bot) -> None:
    chat = tg.user(1).chat_id
    with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
        await bot.send_chat_action(chat, "dancing")  # type: ignore[arg-type]
    with pytest.raises(TelegramBadRequest, match="unknown parameter \"disable_web_page_preview\""):
        await bot.send_message(chat, "x", disable_web_page_preview=True)
    with pytest.raises(TelegramBadRequest, match="unsupported parse_mode"):
        await bot.send_message(chat, "x", parse_mode="html5")
    await bot.send_chat_action(chat, "typing")
    assert tg.state.chat_actions == [(chat, "typing")]


async def test_get_updates_is_in_the_call_log(polling: FakeTelegram) -> None:
    await polling.user(1001).send_text("hi")
    calls = polling.calls("getUpdates")
    assert calls and {c.status for c in calls} == {200}
    assert all("timeout" in c.params for c in calls)
