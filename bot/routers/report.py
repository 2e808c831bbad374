"""/report (issue 15): the period → one message with the totals, a chart and a CSV.

``/report`` offers the period (this week, last week, this month, last month, or "Dates…":
two days typed in the user's zone, bot/input_parsing/date_range.py). Every press is
authorized again by the service (bot/services/reports.py, the access policy: a doctor sees
their own consultations, "Include patient details" is for coordinators and admins and is
audited); a refusal is answered by the errors router. The report itself is made in the
background (bot/routers/report_job.py), so the handler returns at once. Private chats only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import ReportAction, ReportCb
from bot.i18n import Translator
from bot.input_parsing import InputError
from bot.input_parsing.date_range import parse_date_range
from bot.notifications.runtime import Notifications, status_processor
from bot.rendering import report as view
from bot.reports.period import Period, preset
from bot.routers.report_job import ReportJob, ReportJobs
from bot.services.access import Actor
from bot.services.context import actor_of
from bot.services.reports import ReportMaker, authorize_report, report_menu
from bot.settings import Settings
from bot.states import ReportStates
from storage.db import utcnow

log = logging.getLogger(__name__)

TYPED_DATES = (StateFilter(ReportStates.dates), F.text, ~F.text.startswith("/"))


def _now(data: dict[str, Any]) -> datetime:
    clock: Callable[[], datetime] | None = data.get("clock")
    return clock() if callable(clock) else utcnow()


def _maker(data: dict[str, Any]) -> ReportMaker:
    notifications: Notifications | None = data.get("notifications")
    settings: Settings = data["settings"]
    processor = (
        notifications.processor
        if notifications is not None
        else status_processor(
            data["i18n"],
            admin_ids=settings.admin_ids,
            default_timezone=settings.default_timezone,
            team_chat_id=settings.team_chat_id,
        )
    )
    return ReportMaker(
        session_factory=data["session_factory"],
        api=data["api"],
        processor=processor,
        outbox_wake=data["outbox_wakeup"],
    )


async def _start(
    jobs: ReportJobs,
    actor: Actor,
    period: Period,
    t: Translator,
    data: dict[str, Any],
    *,
    message: Message | None,
    patient_details: bool = False,
) -> None:
    """Authorize (the service; AccessDenied goes to the errors router) and hand over."""
    session: AsyncSession = data["session"]
    tz: ZoneInfo = data["tz"]
    scope = await authorize_report(session, actor, period, tz, patient_details=patient_details)
    await session.commit()  # nothing of this update's transaction stays open during the job
    bot: Bot = data["bot"]
    job = ReportJob(
        maker=_maker(data),
        jobs=jobs,
        bot=bot,
        chat_id=actor.telegram_id,
        scope=scope,
        t=t,
        tz=tz,
        now=_now(data),
        message=message,
    )
    jobs.spawn(actor.telegram_id, job.run())
    log.info(
        "report_started user_id=%s period=%s details=%s",
        actor.telegram_id,
        period.key(),
        patient_details,
    )


def setup() -> Router:
    """A fresh router (and its jobs) per dispatcher; a shutdown cancels running reports."""
    router = Router(name="report")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    jobs = ReportJobs()
    router.shutdown.register(jobs.cancel_all)

    @router.message(Command("report"))
    async def report_command(message: Message, t: Translator, **data: Any) -> None:
        own_only = report_menu(actor_of(data))
        await message.answer(
            view.ask_text(t, own_only=own_only), reply_markup=view.period_keyboard(t)
        )

    @router.callback_query(ReportCb.filter(F.a == ReportAction.PRESET))
    async def preset_pressed(
        query: CallbackQuery, callback_data: ReportCb, t: Translator, **data: Any
    ) -> None:
        actor = actor_of(data)
        try:
            period = preset(callback_data.arg, _now(data), data["tz"])
        except ValueError:
            await query.answer(t("error-stale-button"), show_alert=True)
            return
        if jobs.busy(actor.telegram_id):
            await query.answer(t("report-busy"), show_alert=True)
            return
        message = query.message if isinstance(query.message, Message) else None
        await _start(jobs, actor, period, t, data, message=message)
        await query.answer()

    @router.callback_query(ReportCb.filter(F.a == ReportAction.DATES))
    async def dates_pressed(
        query: CallbackQuery, t: Translator, state: FSMContext, **data: Any
    ) -> None:
        report_menu(actor_of(data))  # refused here, not after the dates are typed
        session: AsyncSession = data["session"]
        await session.commit()  # the FSM storage writes through its own connection
        await state.set_state(ReportStates.dates)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(view.dates_prompt(t, data["tz"], _now(data)))

    @router.message(*TYPED_DATES)
    async def dates_typed(message: Message, t: Translator, state: FSMContext, **data: Any) -> None:
        actor = actor_of(data)
        try:
            period = parse_date_range(message.text, data["tz"], _now(data))
        except InputError as exc:
            await message.answer(view.input_error_text(t, exc.reason, exc.args_))
            return
        if jobs.busy(actor.telegram_id):
            await message.answer(t("report-busy"))
            return
        session: AsyncSession = data["session"]
        await session.commit()
        await state.set_state(None)  # the state only: what other flows keep stays
        await _start(jobs, actor, period, t, data, message=None)

    @router.callback_query(ReportCb.filter(F.a == ReportAction.DETAILS))
    async def details_pressed(
        query: CallbackQuery, callback_data: ReportCb, t: Translator, **data: Any
    ) -> None:
        actor = actor_of(data)
        try:
            period = Period.from_key(callback_data.arg)
        except ValueError:
            await query.answer(t("error-stale-button"), show_alert=True)
            return
        if jobs.busy(actor.telegram_id):
            await query.answer(t("report-busy"), show_alert=True)
            return
        await _start(jobs, actor, period, t, data, message=None, patient_details=True)
        await query.answer(t("report-details-preparing"))

    return router
