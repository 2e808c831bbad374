"""``ScrollingGroup`` that renders its items once per window render.

aiogram-dialog's pager buttons (``PrevPage``, ``CurrentPage``, ``NextPage``) each ask the
scroll for its page count, and ``ScrollingGroup`` answers by rendering every item again:
four renders of the whole list for one window. The rows rendered first are kept in the
window's render data (a dict built anew for each render) under a private key, which the
texts never see (``I18nText`` skips keys starting with "_")."""

from __future__ import annotations

from typing import Any

from aiogram_dialog.api.internal import RawKeyboard
from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.kbd import ScrollingGroup


class OnceRenderedScrollingGroup(ScrollingGroup):
    async def _render_contents(self, data: dict[str, Any], manager: DialogManager) -> RawKeyboard:
        key = f"_scroll_rows_{self.widget_id}"
        rows: RawKeyboard | None = data.get(key)
        if rows is None:
            rows = data[key] = await super()._render_contents(data, manager)
        return rows
