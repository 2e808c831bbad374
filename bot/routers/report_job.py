"""A report being made, in the background of the /report router (bot/routers/report.py).

The handler answers at once and hands the work to ``ReportJobs``: so neither the user who
asked nor anyone else waits for it (updates are handled as they come; a long report never
holds the user's event lock or a database transaction). The job:

1. counts the period's consultations and edits the message in place ("Counting 1,200
   consultations…"), then the refresh's progress (at most one edit a second);
2. refreshes the open ones (and those never looked at) from the partner (bot/services/
   reports.py), reads the period in pages;
3. builds the totals, the chart (PNG) and the CSV in a worker thread, one build at a time
   (matplotlib is imported there, at the first report);
4. edits the message into the totals and sends the chart (sendPhoto) and the CSV
   (sendDocument) from memory; nothing is written to disk.

One job per user at a time; a shutdown cancels the running ones. Logs carry ids and counts
only, never a patient's data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.rendering import report as view
from bot.rendering.report_chart import draw_chart
from bot.rendering.report_csv import build_csv
from bot.reports.figures import Summary, summarize
from bot.services.reports import ReportMaker, ReportScope
from storage.report_rows import ReportRecord

log = logging.getLogger(__name__)

PROGRESS_EVERY = 1.0  # seconds between two progress edits (Telegram's pace per chat)


@dataclass
class ReportJobs:
    """The reports in progress of one dispatcher: one per user; the heavy build (chart,
    CSV) one at a time, off the event loop."""

    _running: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _build: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    def busy(self, user_id: int) -> bool:
        task = self._running.get(user_id)
        return task is not None and not task.done()

    def spawn(self, user_id: int, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=f"report-{user_id}")
        self._running[user_id] = task
        task.add_done_callback(lambda done: self._forget(user_id, done))
        return task

    def _forget(self, user_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(user_id) is task:
            del self._running[user_id]

    async def cancel_all(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def in_thread(self, fn: Callable[[], Any]) -> Any:
        async with self._build:
            return await asyncio.to_thread(fn)


@dataclass
class ReportJob:
    """One report for one chat: what it reads, how it is worded, where it goes."""

    maker: ReportMaker
    jobs: ReportJobs
    bot: Bot
    chat_id: int
    scope: ReportScope
    t: Translator
    tz: tzinfo
    now: datetime
    message: Message | None = None  # the progress message, edited into the totals
    _last_edit: float = 0.0

    async def run(self) -> None:
        try:
            if self.scope.patient_details:
                await self._details()
            else:
                await self._report()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error(
                "report_failed chat_id=%s period=%s error=%s",
                self.chat_id,
                self.scope.period.key(),
                type(exc).__name__,
            )
            await self._say(self.t("report-failed"), None, final=True)

    async def _report(self) -> None:
        period, t, tz = self.scope.period, self.t, self.tz
        count = await self.maker.count(self.scope)
        await self._say(view.progress_text(t, period, tz, count), None)

        async def progress(done: int, total: int) -> None:
            await self._say(view.progress_text(t, period, tz, count, done=done, total=total))

        refreshed = await self.maker.refresh(self.scope, progress)
        records = await self.maker.records(self.scope)
        names = await self.maker.coordinator_names(records)
        summary, png, csv = await self.jobs.in_thread(lambda: self._build(records, names))
        text = view.totals_text(
            t,
            summary,
            period,
            tz,
            own_only=self.scope.own_only,
            not_refreshed=refreshed.not_refreshed,
        )
        markup = view.totals_keyboard(t, period, details=not self.scope.own_only and bool(csv))
        await self._say(text, markup, final=True)
        if png is not None and csv is not None:
            await self.bot.send_photo(
                self.chat_id,
                BufferedInputFile(png, view.file_name(period, "png")),
                caption=t("report-chart-caption"),
            )
            await self.bot.send_document(
                self.chat_id,
                BufferedInputFile(csv, view.file_name(period, "csv")),
                caption=t("report-csv-caption"),
            )
        log.info(
            "report_made chat_id=%s period=%s consultations=%d refreshed=%d not_refreshed=%d",
            self.chat_id,
            period.key(),
            summary.started,
            refreshed.looked,
            refreshed.not_refreshed,
        )

    def _build(
        self, records: list[ReportRecord], names: dict[int, str]
    ) -> tuple[Summary, bytes | None, bytes | None]:
        """In the worker thread: totals, chart and CSV."""
        summary = summarize(records, self.tz, self.scope.period.days)
        if not summary.started:
            return summary, None, None
        png = draw_chart(view.chart_input(self.t, summary, self.scope.period, self.tz))
        return summary, png, self._csv(records, names)

    def _csv(self, records: list[ReportRecord], names: dict[int, str]) -> bytes:
        return build_csv(
            records,
            lang=self.t.lang,
            tz=self.tz,
            words=view.csv_words(self.t, self.tz, self.now),
            coordinator=lambda uid: names.get(uid, f"#{uid}"),
            patient_details=self.scope.patient_details,
        )

    async def _details(self) -> None:
        """ "Include patient details": the CSV again, from the local copy as it is now."""
        records = await self.maker.records(self.scope)
        names = await self.maker.coordinator_names(records)
        csv = await self.jobs.in_thread(lambda: self._csv(records, names))
        # Patient names and phones: no forwarding or saving out of the chat.
        await self.bot.send_document(
            self.chat_id,
            BufferedInputFile(csv, view.file_name(self.scope.period, "csv", patient_details=True)),
            caption=self.t("report-details-sent"),
            protect_content=True,
        )
        log.info(
            "report_details_sent chat_id=%s period=%s consultations=%d",
            self.chat_id,
            self.scope.period.key(),
            len(records),
        )

    async def _say(
        self, text: str, markup: InlineKeyboardMarkup | None = None, *, final: bool = False
    ) -> None:
        """Edit the progress message (at most once a second unless ``final``); a new
        message when there is none, or when the last word cannot be an edit."""
        now = time.monotonic()
        if not final and self.message is not None and now - self._last_edit < PROGRESS_EVERY:
            return
        self._last_edit = now
        if self.message is not None:
            try:
                await self.message.edit_text(text, reply_markup=markup)
                return
            except TelegramBadRequest as exc:
                if "message is not modified" in exc.message:
                    return
                if not final:
                    return  # progress is a courtesy
            except TelegramAPIError:
                if not final:
                    return
        self.message = await self.bot.send_message(self.chat_id, text, reply_markup=markup)
