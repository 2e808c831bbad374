"""The start time (quick buttons, typed, or Calendar + TimeSelect in the user's zone) and
the duration."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.api.entities import ChatEvent
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput
from aiogram_dialog.widgets.kbd import Button, ManagedCalendar, ManagedTimeSelect, Select

from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.getters import now_of
from bot.dialogs.start_callback.handlers import (
    go_next,
    set_error,
    set_input_error,
    tz_of,
)
from bot.input_parsing.duration import check_duration
from bot.input_parsing.errors import InputError
from bot.input_parsing.start_time import (
    MAX_DAYS_AHEAD,
    QuickStart,
    check_start_time,
    local_to_utc,
    parse_start_time,
    quick_start,
)
from bot.states import StartCallbackSG as SG

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- start time


def _set_begin(manager: DialogManager, begin: datetime | None) -> None:
    manager.dialog_data[S.BEGIN_AT] = begin.isoformat() if begin is not None else None


async def on_quick_time(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    option = QuickStart((button.widget_id or "").removeprefix("t_"))
    _set_begin(manager, quick_start(option, tz_of(manager), now_of(manager)))
    await go_next(manager)


async def on_now_nothing_else(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    """The short path: start now and skip the duration and attachment steps → the summary.

    Whatever is already set (a duration from Repeat, an attachment chosen before an Edit)
    stays: the button skips steps, it does not clear them."""
    manager.dialog_data[S.BEGIN_AT] = None
    await manager.switch_to(S.first_missing(manager.dialog_data) or SG.summary)


async def on_time_typed(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    try:
        begin = parse_start_time(message.text, tz_of(manager), now_of(manager))
    except InputError as exc:
        set_input_error(manager, exc)
        return
    _set_begin(manager, begin)
    await go_next(manager)


def calendar_bounds(manager: DialogManager) -> tuple[date, date]:
    today = now_of(manager).astimezone(tz_of(manager)).date()
    return today, today + timedelta(days=MAX_DAYS_AHEAD)


async def on_date_picked(
    event: ChatEvent, widget: ManagedCalendar, manager: DialogManager, picked: date
) -> None:
    first, last = calendar_bounds(manager)
    if not first <= picked <= last:
        set_error(
            manager,
            "wizard-time-error-past" if picked < first else "wizard-time-error-too-far",
            max_days=MAX_DAYS_AHEAD,
        )
        return
    manager.dialog_data[S.PICKED_DATE] = picked.isoformat()
    await manager.switch_to(SG.start_clock)


async def on_clock_changed(
    event: ChatEvent, counter: ManagedTimeSelect, dialog_manager: DialogManager, value: time | None
) -> None:
    # Parameter names as in aiogram-dialog's OnValueChanged (its arguments are not
    # positional-only, so a typed handler must use the same names).
    if value is None:
        return  # only the hour (or only the minutes) so far
    picked = dialog_manager.dialog_data.get(S.PICKED_DATE)
    # The widget keeps its value between visits; start clean the next time.
    counter.widget.set_widget_data(dialog_manager, [None, None])
    if not picked:
        await dialog_manager.switch_to(SG.start_date)
        return
    tz = tz_of(dialog_manager)
    try:
        begin = local_to_utc(datetime.combine(date.fromisoformat(picked), value), tz)
        begin = check_start_time(begin, now_of(dialog_manager))
    except InputError as exc:
        set_input_error(dialog_manager, exc)
        return
    _set_begin(dialog_manager, begin)
    await dialog_manager.switch_to(S.next_state(SG.start_time, dialog_manager.dialog_data))


# ---------------------------------------------------------------------------- duration


async def on_duration_quick(
    callback: CallbackQuery, widget: Select[int], manager: DialogManager, item_id: int
) -> None:
    manager.dialog_data[S.DURATION] = check_duration(int(item_id))
    await go_next(manager)


async def on_duration_ok(
    message: Message, widget: ManagedTextInput[int], manager: DialogManager, value: int
) -> None:
    manager.dialog_data[S.DURATION] = value
    await go_next(manager)


async def on_duration_skip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[S.DURATION] = None
    await go_next(manager)
