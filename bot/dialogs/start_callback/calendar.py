"""The wizard's calendar: aiogram-dialog's Calendar in the user's zone, on the wizard's clock
(its "today" decides the month it opens on and the day it marks), with localized names."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import CallbackQuery, InlineKeyboardButton
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.api.internal import RawKeyboard
from aiogram_dialog.widgets.kbd import (
    Calendar,
    CalendarUserConfig,
)
from aiogram_dialog.widgets.kbd.calendar_kbd import (
    CalendarConfig,
    CalendarDaysView,
    CalendarMonthView,
    CalendarScope,
    CalendarScopeView,
    CalendarYearsView,
)
from aiogram_dialog.widgets.text import Text

from bot.dialogs.i18n_widgets import translator_of
from bot.dialogs.start_callback import (
    time_steps,
)


class _CalendarText(Text):
    """A calendar label in the coordinator's language: aiogram-dialog's defaults format
    dates with the server's locale ("November 2026", "Mon")."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        t = translator_of(manager)
        if self.kind in ("zoom", "years"):
            return t("wizard-cal-months" if self.kind == "zoom" else "wizard-cal-years")
        day: date = data["date"]
        if self.kind == "weekday":
            return t("wizard-cal-weekday", day=day.isoweekday())
        month = t("wizard-cal-month", month=day.month)
        return {
            "header": f"🗓 {month} {day.year}",
            "prev": f"◀ {month}",
            "next": f"{month} ▶",
            "month": month,
            "this_month": f"[ {month} ]",
        }[self.kind]


def _today(manager: DialogManager) -> date:
    """Today in the coordinator's zone by the wizard's clock (handlers.now_of), not by the
    server's wall clock that aiogram-dialog's views read (``get_today``)."""
    return time_steps.calendar_bounds(manager)[0]


class _DaysView(CalendarDaysView):
    async def _render_date_button(
        self, selected_date: date, today: date, data: dict[str, Any], manager: DialogManager
    ) -> InlineKeyboardButton:
        return await super()._render_date_button(selected_date, _today(manager), data, manager)


class _MonthView(CalendarMonthView):
    async def _render_month_button(
        self,
        month: int,
        this_month: int,
        data: dict[str, Any],
        offset: date,
        config: CalendarConfig,
        manager: DialogManager,
    ) -> InlineKeyboardButton:
        today = _today(manager)
        this_month = today.month if offset.year == today.year else -1
        return await super()._render_month_button(month, this_month, data, offset, config, manager)


class _YearsView(CalendarYearsView):
    async def _render_year_button(
        self,
        year: int,
        this_year: int,
        data: dict[str, Any],
        config: CalendarConfig,
        manager: DialogManager,
    ) -> InlineKeyboardButton:
        return await super()._render_year_button(year, _today(manager).year, data, config, manager)


class ZonedCalendar(Calendar):
    """Calendar in the coordinator's own zone (not the server's) and language, limited to
    the booking window: today … MAX_DAYS_AHEAD. "Today" — the month first shown and the
    marked day — comes from the wizard's clock (``clock`` in the workflow data), so a test
    at a fixed day and a coordinator east of the server both see their own today.

    aiogram-dialog renders the blank cells around a month as ``text=" "`` with
    ``callback_data=""``; the Bot API refuses a blank button ("text buttons are unallowed in
    the inline keyboard"), so they become a braille blank (U+2800: not whitespace to the Bot
    API, empty to the eye) with a no-op item id.
    """

    NOOP = "-"
    BLANK = "\u2800"

    def _init_views(self) -> dict[CalendarScope, CalendarScopeView]:
        callback = self._item_callback_data
        return {
            CalendarScope.DAYS: _DaysView(
                callback,
                weekday_text=_CalendarText("weekday"),
                header_text=_CalendarText("header"),
                zoom_out_text=_CalendarText("zoom"),
                next_month_text=_CalendarText("next"),
                prev_month_text=_CalendarText("prev"),
            ),
            CalendarScope.MONTHS: _MonthView(
                callback,
                month_text=_CalendarText("month"),
                this_month_text=_CalendarText("this_month"),
                zoom_out_text=_CalendarText("years"),
            ),
            CalendarScope.YEARS: _YearsView(callback),
        }

    async def _get_user_config(self, data: dict[str, Any], manager: DialogManager) -> Any:
        first, last = time_steps.calendar_bounds(manager)
        return CalendarUserConfig(
            timezone=manager.middleware_data["tz"], min_date=first, max_date=last
        )

    async def _render_keyboard(self, data: dict[str, Any], manager: DialogManager) -> RawKeyboard:
        if self.get_offset(manager) is None:
            # The month first shown: aiogram-dialog would take the server's today.
            self.set_offset(_today(manager), manager)
        rows = await super()._render_keyboard(data, manager)
        noop = self._item_callback_data(self.NOOP)
        return [
            [
                b.model_copy(update={"text": b.text.strip() or self.BLANK, "callback_data": noop})
                if isinstance(b, InlineKeyboardButton)
                and (not b.callback_data or not b.text.strip())
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
