"""The wizard's windows. Every step: Back and Cancel; optional steps: Skip."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.fsm.state import State
from aiogram_dialog import Dialog, Window
from aiogram_dialog.api.internal import DataGetter
from aiogram_dialog.widgets.input import BaseInput, MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Column,
    CurrentPage,
    Group,
    Keyboard,
    NextPage,
    PrevPage,
    Row,
    Select,
    SwitchTo,
    TimeSelect,
)
from aiogram_dialog.widgets.text import Const, Format, Text

from bot.dialogs.i18n_widgets import I18nText
from bot.dialogs.scope import own_input_only
from bot.dialogs.scrolling import OnceRenderedScrollingGroup
from bot.dialogs.start_callback import (
    attachment_step,
    confirm,
    doctor_step,
    getters,
    handlers,
    patient_steps,
    time_steps,
)
from bot.dialogs.start_callback.calendar import ZonedCalendar
from bot.input_parsing.duration import parse_duration
from bot.input_parsing.patient_name import parse_patient_name
from bot.input_parsing.start_time import QuickStart
from bot.states import StartCallbackSG as SG

DOCTORS_PER_PAGE = getters.DOCTORS_PER_PAGE


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


def _step(
    state: State,
    *widgets: Text | Keyboard | BaseInput,
    getter: DataGetter | None = None,
    catch_all: BaseInput | None = None,
    nav: Keyboard | None = None,
) -> Window:
    """A wizard step: its widgets, then the input catch-all (``_unexpected`` unless the step
    has its own) and the navigation row (Back + Cancel unless given) below its buttons."""
    return Window(
        *widgets,
        catch_all if catch_all is not None else _unexpected(),
        nav if nav is not None else _nav(),
        state=state,
        getter=getter,
        # The steps echo the typed phone and name (and the summary all of it): no
        # forwarding or saving. Every window alike, so moving between them stays an edit
        # (aiogram-dialog sends anew when protection changes).
        protect_content=True,
    )


def _quick_time(option: QuickStart) -> Button:
    # The id carries the option: time_steps.on_quick_time reads it back.
    key = option.value
    return Button(I18nText(f"wizard-btn-{key}"), id=f"t_{key}", on_click=time_steps.on_quick_time)


doctor_window = _step(
    SG.doctor,
    _ERROR,
    I18nText("wizard-doctor-ask", when="has_doctors"),
    I18nText("wizard-doctor-ask-id", when="no_doctors"),
    I18nText("wizard-doctor-legend", when="any_unavailable"),
    OnceRenderedScrollingGroup(
        Select(
            Format("{item[label]}"),
            id="doc",
            item_id_getter=lambda item: item["id"],
            items="doctors",
            type_factory=int,
            on_click=doctor_step.on_doctor_selected,
        ),
        id="docs",
        width=1,
        height=DOCTORS_PER_PAGE,
        hide_pager=True,  # aiogram-dialog's own pager reads "1 < 1 > 3"
    ),
    Row(
        PrevPage(scroll="docs", text=Const("◀")),
        CurrentPage(scroll="docs", text=Format("{current_page1}/{pages}")),
        NextPage(scroll="docs", text=Const("▶")),
        when="doctors_paged",
    ),
    MessageInput(doctor_step.on_doctor_typed, content_types=ContentType.TEXT),
    # The first step has nothing to go back to, except the summary when editing.
    nav=Row(
        Button(I18nText("wizard-btn-back"), id="back", on_click=handlers.on_back, when="editing"),
        _cancel(),
    ),
    getter=getters.doctor_getter,
)

phone_window = _step(
    SG.phone,
    _ERROR,
    I18nText("wizard-phone-ask"),
    I18nText("wizard-doctor-unavailable-note", when="doctor_unavailable"),
    MessageInput(
        patient_steps.on_phone_input, content_types=[ContentType.TEXT, ContentType.CONTACT]
    ),
    getter=getters.phone_getter,
)

phone_warning_window = _step(
    SG.phone_warning,
    _ERROR,
    I18nText("wizard-phone-warning"),
    Button(
        I18nText("wizard-btn-open-card"), id="phone_card", on_click=patient_steps.on_phone_open_card
    ),
    Button(
        I18nText("wizard-btn-continue-anyway"),
        id="phone_go",
        on_click=patient_steps.on_phone_continue,
    ),
    Button(
        I18nText("wizard-btn-change-phone"),
        id="phone_change",
        on_click=patient_steps.on_phone_change,
    ),
    nav=_cancel(),
    getter=getters.phone_warning_getter,
)

name_window = _step(
    SG.name,
    _ERROR,
    I18nText("wizard-name-ask"),
    TextInput(
        id="name",
        type_factory=parse_patient_name,
        on_success=patient_steps.on_name_ok,
        on_error=patient_steps.on_input_error,
    ),
    getter=getters.name_getter,
)

time_window = _step(
    SG.start_time,
    _ERROR,
    I18nText("wizard-time-ask"),
    I18nText("wizard-time-current", when="has_start"),
    Button(
        I18nText("wizard-btn-now-nothing-else"),
        id="now_only",
        on_click=time_steps.on_now_nothing_else,
    ),
    _quick_time(QuickStart.NOW),
    Row(_quick_time(QuickStart.IN_15_MIN), _quick_time(QuickStart.IN_1_HOUR)),
    Row(
        _quick_time(QuickStart.TOMORROW_9),
        SwitchTo(I18nText("wizard-btn-pick-date"), id="pick_date", state=SG.start_date),
    ),
    MessageInput(time_steps.on_time_typed, content_types=ContentType.TEXT),
    getter=getters.time_getter,
)

date_window = _step(
    SG.start_date,
    _ERROR,
    I18nText("wizard-time-pick-date"),
    ZonedCalendar(id="cal", on_click=time_steps.on_date_picked),
    getter=getters.clock_getter,
)

clock_window = _step(
    SG.start_clock,
    _ERROR,
    I18nText("wizard-time-pick-clock"),
    TimeSelect(
        id="clock",
        hour_header=I18nText("wizard-btn-hour"),
        minute_header=I18nText("wizard-btn-minute"),
        on_value_changed=time_steps.on_clock_changed,
        minute_precision=5,
    ),
    getter=getters.clock_getter,
)

duration_window = _step(
    SG.duration,
    _ERROR,
    I18nText("wizard-duration-ask"),
    Group(
        Select(
            Format("{item[label]}"),
            id="dq",
            item_id_getter=lambda item: item["minutes"],
            items="quick",
            type_factory=int,
            on_click=time_steps.on_duration_quick,
        ),
        width=4,
    ),
    TextInput(
        id="duration",
        type_factory=parse_duration,
        on_success=time_steps.on_duration_ok,
        on_error=patient_steps.on_input_error,
    ),
    Button(I18nText("wizard-btn-skip"), id="skip", on_click=time_steps.on_duration_skip),
    getter=getters.duration_getter,
)

attachment_window = _step(
    SG.attachment,
    _ERROR,
    I18nText("wizard-attachment-ask"),
    I18nText("wizard-attachment-current", when="has_attachment"),
    MessageInput(
        attachment_step.on_attachment, content_types=[ContentType.DOCUMENT, ContentType.PHOTO]
    ),
    Button(I18nText("wizard-btn-skip"), id="skip", on_click=attachment_step.on_attachment_skip),
    catch_all=MessageInput(attachment_step.on_attachment_other),
    getter=getters.attachment_getter,
)

summary_window = _step(
    SG.summary,
    _ERROR,
    I18nText("wizard-summary"),
    I18nText("wizard-summary-cost", when="has_cost"),
    I18nText("wizard-summary-unavailable", when="doctor_unavailable"),
    Button(I18nText("wizard-btn-confirm"), id="confirm", on_click=confirm.on_confirm),
    SwitchTo(I18nText("wizard-btn-edit"), id="edit", state=SG.edit),
    getter=getters.summary_getter,
)

edit_window = _step(
    SG.edit,
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
)

retry_window = _step(
    SG.retry,
    I18nText("wizard-retry-ask"),
    Row(
        Button(
            I18nText("wizard-btn-change-doctor"), id="r_doctor", on_click=handlers.on_retry_doctor
        ),
        Button(I18nText("wizard-btn-change-time"), id="r_time", on_click=handlers.on_retry_time),
    ),
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
    return own_input_only(dialog)
