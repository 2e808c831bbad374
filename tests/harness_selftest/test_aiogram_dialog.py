"""aiogram-dialog windows through the fake: the message is edited in place as the user moves."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram_dialog import Dialog, DialogManager, StartMode, Window, setup_dialogs
from aiogram_dialog.widgets.input import TextInput
from aiogram_dialog.widgets.kbd import Back, Cancel, SwitchTo
from aiogram_dialog.widgets.text import Const, Format

from tests.fake_telegram import FakeTelegram, run_polling


class Wizard(StatesGroup):
    menu = State()
    name = State()
    done = State()


async def name_getter(dialog_manager: DialogManager, **_: object) -> dict[str, object]:
    return {"name": dialog_manager.dialog_data.get("name", "")}


async def name_entered(
    message: Message, widget: object, manager: DialogManager, value: str
) -> None:
    manager.dialog_data["name"] = value
    await manager.switch_to(Wizard.done)


def create_dispatcher() -> Dispatcher:
    dialog = Dialog(
        Window(
            Const("Меню"),
            SwitchTo(Const("Имя"), id="to_name", state=Wizard.name),
            Cancel(Const("Отмена")),
            state=Wizard.menu,
        ),
        Window(
            Const("Введите <b>имя</b>"),
            TextInput(id="name", on_success=name_entered),
            Back(Const("Назад")),
            state=Wizard.name,
        ),
        Window(
            Format("Готово: {name}"),
            Cancel(Const("Закрыть")),
            state=Wizard.done,
            getter=name_getter,
        ),
    )
    dp = Dispatcher()

    async def start(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(Wizard.menu, mode=StartMode.RESET_STACK)

    dp.message.register(start, Command("wizard"))
    dp.include_router(dialog)
    setup_dialogs(dp)
    return dp


async def test_dialog_edits_one_message(tg: FakeTelegram, bot: Bot) -> None:
    anna = tg.user(1001)
    async with run_polling(create_dispatcher(), bot):
        await anna.send_command("/wizard")
        assert anna.last_bot_message().text == "Меню"
        assert anna.buttons() == ["Имя", "Отмена"]
        await anna.press("Имя")
        assert anna.last_bot_message().text == "Введите имя"
        await anna.press("Назад")
        assert anna.last_bot_message().text == "Меню"
        await anna.press("Имя")
        await anna.send_text("Анна")
        assert anna.last_bot_message().text == "Готово: Анна"
    # Button moves edit the window in place; the text input makes aiogram-dialog send it anew.
    window, final = anna.bot_messages()
    # Меню -> Введите имя -> Меню -> Введите имя, then its keyboard removed by the new window.
    assert [r.text for r in window.history] == ["Меню", "Введите имя", "Меню", "Введите имя"]
    assert window.buttons == [] and final.buttons[0].text == "Закрыть"
    assert tg.unanswered_queries() == []
    assert tg.unknown_methods == []
    assert [c for c in tg.calls() if c.status != 200] == []


async def test_unescaped_user_text_in_format_is_caught(tg: FakeTelegram, bot: Bot) -> None:
    # aiogram-dialog's Format does not escape; Telegram refuses the markup, and so does the fake.
    anna = tg.user(1001)
    async with run_polling(create_dispatcher(), bot):
        await anna.send_command("/wizard")
        await anna.press("Имя")
        await anna.send_text("Анна <script>")
    assert anna.last_bot_message().text == "Введите имя"
    refused = [c for c in tg.calls() if c.status == 400]
    assert [c.description for c in refused] == [
        'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 23'
    ]
