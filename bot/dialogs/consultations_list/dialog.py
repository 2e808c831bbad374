"""/list and /find: one aiogram-dialog window edited in place.

``StubScroll`` keeps the page number; the getter loads exactly that page (server-side
paging, see ``source.load_page``). Start data / dialog data: ``f`` (ListFilter value),
``o`` (SortKey value), ``a`` (ascending), ``p`` (start page), ``q`` (the /find text).
A row opens the card in the same message (the dialog closes; the card's "Back" starts it
again at the same position).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.utils import remove_intent_id
from aiogram_dialog.widgets.common import ManagedScroll
from aiogram_dialog.widgets.kbd import (
    Column,
    CurrentPage,
    NextPage,
    PrevPage,
    Row,
    Select,
    Start,
    StubScroll,
)
from aiogram_dialog.widgets.text import Const, Format

from bot.callback_data import ListFilter, ListPosition, SortKey
from bot.dialogs.answered import answer_early
from bot.dialogs.consultations_list.card import show_card_in_place
from bot.dialogs.consultations_list.source import ListQuery, load_page
from bot.dialogs.i18n_widgets import I18nText, translator_of
from bot.dialogs.scope import own_input_only
from bot.rendering.consultation_list import (
    PAGE_SIZE,
    page_count,
    page_text,
    row_button,
)
from bot.services.access import Action, Actor, allowed
from bot.services.context import actor_of
from bot.states import ConsultationsListSG
from storage.repositories import ConsultationRepository

log = logging.getLogger(__name__)

SCROLL_ID = "pages"
STAFF_FILTERS = (
    ListFilter.ACTIVE,
    ListFilter.SCHEDULED,
    ListFilter.FINISHED,
    ListFilter.ALL,
    ListFilter.MINE,
)
DOCTOR_FILTERS = (ListFilter.ACTIVE, ListFilter.SCHEDULED, ListFilter.FINISHED, ListFilter.ALL)


def _scroll(manager: DialogManager) -> ManagedScroll:
    widget = manager.find(SCROLL_ID)
    assert isinstance(widget, ManagedScroll)
    return widget


def position_data(pos: ListPosition, text: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"f": pos.f.value, "o": pos.o.value, "a": pos.a, "p": pos.p}
    if text is not None:
        data["q"] = text
    return data


def _query(manager: DialogManager, page: int) -> ListQuery:
    dd = manager.dialog_data
    return ListQuery(
        filter=ListFilter(dd.get("f", ListFilter.ACTIVE.value)),
        sort=SortKey(dd.get("o", SortKey.CREATED.value)),
        asc=bool(dd.get("a", False)),
        page=page,
        text=dd.get("q"),
    )


def current_position(manager: DialogManager, page: int) -> ListPosition:
    q = _query(manager, page)
    return ListPosition(f=q.filter, o=q.sort, a=q.asc, p=page)


async def on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    for key in ("f", "o", "a", "q"):
        if key in data:
            manager.dialog_data[key] = data[key]
    await _scroll(manager).set_page(int(data.get("p", 0) or 0))


async def list_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    md = dialog_manager.middleware_data
    t = translator_of(dialog_manager)
    actor = actor_of(md)
    scroll = _scroll(dialog_manager)
    query = _query(dialog_manager, await scroll.get_page())
    result = await load_page(query, api=md["api"], session=md["session"], actor=actor, t=t)
    if result.page != query.page:
        await scroll.set_page(result.page)
    pages = page_count(result.total)
    staff = actor.is_staff
    note = result.note
    if query.filter is ListFilter.FIND and query.text:
        from html import escape

        find_line = t("list-find-query", query=escape(query.text))
        note = f"{find_line}\n{note}" if note else find_line
    text = page_text(
        result.rows,
        t,
        md["tz"],
        filter_value=query.filter.value,
        page=result.page,
        total=result.total,
        can_start=staff,
        note=note,
    )
    first = result.page * PAGE_SIZE + 1
    filters = STAFF_FILTERS if staff else DOCTOR_FILTERS
    arrow = "↑" if query.asc else "↓"
    return {
        "text": text,
        "rows": [(str(r.cid), row_button(r, first + i, t)) for i, r in enumerate(result.rows)],
        "pages": pages,
        "paged": pages > 1,
        "empty": not result.rows and staff,
        "filters": [
            (f.value, ("• " if f is query.filter else "") + t(f"list-filter-{f.value}"))
            for f in filters
        ],
        "sorts": [
            (s.value, t(f"list-sort-{s.value}") + (f" {arrow}" if s is query.sort else ""))
            for s in SortKey
        ],
        "page_label": t("list-pager", page=result.page + 1, pages=pages),
    }


async def on_filter(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["f"] = ListFilter(item_id).value
    manager.dialog_data.pop("q", None)
    await _scroll(manager).set_page(0)  # a filter change goes back to page 1


async def on_sort(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    key = SortKey(item_id)
    dd = manager.dialog_data
    if dd.get("o", SortKey.CREATED.value) == key.value:
        dd["a"] = not bool(dd.get("a", False))  # the same key again flips the direction
    else:
        dd["o"], dd["a"] = key.value, False
    await _scroll(manager).set_page(0)


async def on_row(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    md = manager.middleware_data
    # The id's shape was checked by AnswerFirst, which left this press unanswered: whether
    # the user may see the row decides between the card and a short alert.
    consultation = await ConsultationRepository(md["session"]).get(int(item_id))
    if consultation is None or not allowed(actor_of(md), Action.VIEW, consultation):
        await answer_early(
            callback, md, text=translator_of(manager)("list-not-found"), show_alert=True
        )
        manager.show_mode = ShowMode.NO_UPDATE  # the list stays as it is, and open
        return
    await answer_early(callback, md)
    page = await _scroll(manager).get_page()
    pos = current_position(manager, page)
    # The card takes this message over; the list is started again by its "Back" button.
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await show_card_in_place(callback, consultation, pos, md)


_ROW_ID = re.compile(r"^[0-9]{1,18}$")


def _well_formed(own_data: str, actor: Actor) -> bool:
    """A press on one of the list's selects carries an item this version could have drawn
    for this user (forged or older data would raise in the handlers)."""
    widget, sep, item = own_data.partition(":")
    if not sep:
        return True  # a widget's own button (the pager), checked by aiogram-dialog
    if widget == "flt":
        filters = STAFF_FILTERS if actor.is_staff else DOCTOR_FILTERS
        return item in {f.value for f in filters}
    if widget == "srt":
        return item in {s.value for s in SortKey}
    if widget == "row":
        return _ROW_ID.match(item) is not None
    return True


class AnswerFirst(BaseMiddleware):
    """Every press is answered at once: the page load after it may take a while.

    Recorded (bot/dialogs/answered.py), so aiogram-dialog does not answer it again. A press
    whose item this version could not have drawn gets the stale-button alert and goes no
    further; a row press is answered by ``on_row`` once it knows whether the row may be seen.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, CallbackQuery):
            _, own = remove_intent_id(event.data or "")
            if not _well_formed(own, actor_of(data)):
                log.info("list_button_stale user_id=%s", event.from_user.id)
                await answer_early(
                    event, data, text=data["t"]("list-stale-button"), show_alert=True
                )
                return None
            if not own.startswith("row:"):
                await answer_early(event, data)
        return await handler(event, data)


def build_list_dialog() -> Dialog:
    window = Window(
        Format("{text}"),
        Column(
            Select(
                Format("{item[1]}"),
                id="row",
                item_id_getter=lambda item: item[0],
                items="rows",
                on_click=on_row,
            ),
        ),
        StubScroll(id=SCROLL_ID, pages="pages"),
        Row(
            PrevPage(scroll=SCROLL_ID, text=Const("◀️")),
            CurrentPage(scroll=SCROLL_ID, text=Format("{current_page1}/{pages}")),
            NextPage(scroll=SCROLL_ID, text=Const("▶️")),
            when="paged",
        ),
        Row(
            Select(
                Format("{item[1]}"),
                id="flt",
                item_id_getter=lambda item: item[0],
                items="filters",
                on_click=on_filter,
            ),
        ),
        Row(
            Select(
                Format("{item[1]}"),
                id="srt",
                item_id_getter=lambda item: item[0],
                items="sorts",
                on_click=on_sort,
            ),
        ),
        Start(
            I18nText("list-btn-start"),
            id="start",
            state=_wizard_state(),
            mode=StartMode.RESET_STACK,
            when="empty",
        ),
        getter=list_getter,
        state=ConsultationsListSG.main,
        # Rows name patients (and the cards opened in place show the phone): no forwarding.
        protect_content=True,
    )
    dialog = own_input_only(Dialog(window, on_start=on_start))
    dialog.callback_query.middleware(AnswerFirst())
    return dialog


def _wizard_state() -> Any:
    from bot.states import StartCallbackSG

    return StartCallbackSG.doctor
