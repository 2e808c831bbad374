"""The wizard's windows. Every step: Back and Cancel; optional steps: Skip."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, ShowMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Calendar,
    CalendarUserConfig,
    Column,
    Group,
    Row,
    ScrollingGroup,
    Select,
    SwitchTo,
    TimeSelect,
)
from aiogram_dialog.widgets.text import Format

from bot.dialogs.commands import let_commands_through
from bot.dialogs.i18n_widgets import I18nText
from bot.dialogs.start_callback import confirm, getters, handlers
from bot.input_parsing.duration import parse_duration
from bot.input_parsing.patient_name import parse_patient_name
from bot.states import StartCallbackSG as SG

DOCTORS_PER_PAGE = 6


def _back() -> Button:
    return Button(I18nText("wizard-btn-back"), id="back", on_click=handlers.on_back)


def _cancel() -> Button:
    return Button(I18nText("wizard-btn-cancel"), id="cancel", on_click=handlers.on_cancel)


def _nav() -> Row:
    return Row(_back(), _cancel())


_ERROR = Format("{error}", when="error")


# Stickers, voice, albums… on a step that wants something else.
def _unexpected() -> MessageInput:
    return MessageInput(handlers.on_unexpected)


class ZonedCalendar(Calendar):
    """Calendar in the coordinator's own zone (not the server's), limited to the booking
    window: today … MAX_DAYS_AHEAD.

    aiogram-dialog renders the blank cells around a month as ``text=" "`` with
    ``callback_data=""``; the Bot API refuses a blank button ("text buttons are unallowed in
    the inline keyboard"), so they become "·" with a no-op item id.
    """

    NOOP = "-"

    async def _get_user_config(self, data: dict[str, Any], manager: DialogManager) -> Any:
        first, last = handlers.calendar_bounds(manager)
        return CalendarUserConfig(
            timezone=manager.middleware_data["tz"], min_date=first, max_date=last
        )

    async def _render_keyboard(self, data: dict[str, Any], manager: DialogManager) -> Any:
        rows = await super()._render_keyboard(data, manager)
        noop = self._item_callback_data(self.NOOP)
        return [
            [
                b.model_copy(update={"text": b.text.strip() or "·", "callback_data": noop})
                if not b.callback_data or not b.text.strip()
                else b
                for b in row
            ]
            for row in rows
        ]

    async def _process_item_callback(
        self, callback: CallbackQuery, data: str, dialog: Any, manager: DialogManager
    ) -> bool:
        if data == self.NOOP:
            manager.show_mode = ShowMode.NO_UPDATE
            return True
        return await super()._process_item_callback(callback, data, dialog, manager)


doctor_window = Window(
    _ERROR,
    I18nText("wizard-doctor-ask", when="has_doctors"),
    I18nText("wizard-doctor-ask-id", when="no_doctors"),
    I18nText("wizard-doctor-legend", when="any_unavailable"),
    ScrollingGroup(
        Select(
            Format("{item[label]}"),
            id="doc",
            item_id_getter=lambda item: item["id"],
            items="doctors",
            type_factory=int,
            on_click=handlers.on_doctor_selected,
        ),
        id="docs",
        width=1,
        height=DOCTORS_PER_PAGE,
        hide_on_single_page=True,
    ),
    MessageInput(handlers.on_doctor_typed, content_types=ContentType.TEXT),
    _unexpected(),
    _cancel(),  # the first step: nothing to go back to
    state=SG.doctor,
    getter=getters.doctor_getter,
)

phone_window = Window(
    _ERROR,
    I18nText("wizard-phone-ask"),
    MessageInput(handlers.on_phone_input, content_types=[ContentType.TEXT, ContentType.CONTACT]),
    _unexpected(),
    _nav(),
    state=SG.phone,
    getter=getters.phone_getter,
)

phone_warning_window = Window(
    _ERROR,
    I18nText("wizard-phone-warning"),
    Button(
        I18nText("wizard-btn-continue-anyway"), id="phone_go", on_click=handlers.on_phone_continue
    ),
    Button(
        I18nText("wizard-btn-change-phone"), id="phone_change", on_click=handlers.on_phone_change
    ),
    _unexpected(),
    _cancel(),
    state=SG.phone_warning,
    getter=getters.phone_warning_getter,
)

name_window = Window(
    _ERROR,
    I18nText("wizard-name-ask"),
    TextInput(
        id="name",
        type_factory=parse_patient_name,
        on_success=handlers.on_name_ok,
        on_error=handlers.on_input_error,
    ),
    _unexpected(),
    _nav(),
    state=SG.name,
    getter=getters.name_getter,
)

time_window = Window(
    _ERROR,
    I18nText("wizard-time-ask"),
    I18nText("wizard-time-current", when="has_start"),
    Button(
        I18nText("wizard-btn-now-nothing-else"),
        id="now_only",
        on_click=handlers.on_now_nothing_else,
    ),
    Button(I18nText("wizard-btn-now"), id="t_now", on_click=handlers.on_quick_time),
    Row(
        Button(I18nText("wizard-btn-in15"), id="t_in15", on_click=handlers.on_quick_time),
        Button(I18nText("wizard-btn-in60"), id="t_in60", on_click=handlers.on_quick_time),
    ),
    Row(
        Button(I18nText("wizard-btn-tomorrow9"), id="t_tomorrow9", on_click=handlers.on_quick_time),
        SwitchTo(I18nText("wizard-btn-pick-date"), id="pick_date", state=SG.start_date),
    ),
    MessageInput(handlers.on_time_typed, content_types=ContentType.TEXT),
    _unexpected(),
    _nav(),
    state=SG.start_time,
    getter=getters.time_getter,
)

date_window = Window(
    _ERROR,
    I18nText("wizard-time-pick-date"),
    ZonedCalendar(id="cal", on_click=handlers.on_date_picked),
    _unexpected(),
    _nav(),
    state=SG.start_date,
    getter=getters.clock_getter,
)

clock_window = Window(
    _ERROR,
    I18nText("wizard-time-pick-clock"),
    TimeSelect(
        id="clock",
        hour_header=I18nText("wizard-btn-hour"),
        minute_header=I18nText("wizard-btn-minute"),
        on_value_changed=handlers.on_clock_changed,
        minute_precision=5,
    ),
    _unexpected(),
    _nav(),
    state=SG.start_clock,
    getter=getters.clock_getter,
)

duration_window = Window(
    _ERROR,
    I18nText("wizard-duration-ask"),
    Group(
        Select(
            Format("{item[label]}"),
            id="dq",
            item_id_getter=lambda item: item["minutes"],
            items="quick",
            type_factory=int,
            on_click=handlers.on_duration_quick,
        ),
        width=4,
    ),
    TextInput(
        id="duration",
        type_factory=parse_duration,
        on_success=handlers.on_duration_ok,
        on_error=handlers.on_input_error,
    ),
    _unexpected(),
    Button(I18nText("wizard-btn-skip"), id="skip", on_click=handlers.on_duration_skip),
    _nav(),
    state=SG.duration,
    getter=getters.duration_getter,
)

attachment_window = Window(
    _ERROR,
    I18nText("wizard-attachment-ask"),
    I18nText("wizard-attachment-current", when="has_attachment"),
    MessageInput(handlers.on_attachment, content_types=[ContentType.DOCUMENT, ContentType.PHOTO]),
    MessageInput(handlers.on_attachment_other),
    Button(I18nText("wizard-btn-skip"), id="skip", on_click=handlers.on_attachment_skip),
    _nav(),
    state=SG.attachment,
    getter=getters.attachment_getter,
)

summary_window = Window(
    _ERROR,
    I18nText("wizard-summary"),
    I18nText("wizard-summary-cost", when="has_cost"),
    Button(I18nText("wizard-btn-confirm"), id="confirm", on_click=confirm.on_confirm),
    SwitchTo(I18nText("wizard-btn-edit"), id="edit", state=SG.edit),
    _unexpected(),
    _nav(),
    state=SG.summary,
    getter=getters.summary_getter,
)

edit_window = Window(
    I18nText("wizard-edit-ask"),
    Column(
        *(
            Button(
                I18nText(f"wizard-btn-edit-{label}"),
                id=f"e_{state}",
                on_click=handlers.on_edit_pick,
            )
            for label, state in (
                ("doctor", "doctor"),
                ("phone", "phone"),
                ("name", "name"),
                ("time", "start_time"),
                ("duration", "duration"),
                ("attachment", "attachment"),
            )
        )
    ),
    _unexpected(),
    _nav(),
    state=SG.edit,
)

retry_window = Window(
    I18nText("wizard-retry-ask"),
    Row(
        Button(
            I18nText("wizard-btn-change-doctor"), id="r_doctor", on_click=handlers.on_retry_doctor
        ),
        Button(I18nText("wizard-btn-change-time"), id="r_time", on_click=handlers.on_retry_time),
    ),
    _unexpected(),
    _nav(),
    state=SG.retry,
    getter=getters.retry_getter,
)


def build_dialog() -> Dialog:
    """A fresh Dialog (a Router) per dispatcher: tests build many dispatchers."""
    dialog = Dialog(
        doctor_window,
        phone_window,
        phone_warning_window,
        name_window,
        time_window,
        date_window,
        clock_window,
        duration_window,
        attachment_window,
        summary_window,
        edit_window,
        retry_window,
        on_start=handlers.on_dialog_start,
    )
    return let_commands_through(dialog)
