"""The doctor step renders its list of buttons once per window render, pager included
(aiogram-dialog's pager buttons each rendered the whole list again to count the pages), and
the list is stored with the conversation only until a doctor is chosen."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram_dialog.widgets.kbd import Select
from sqlalchemy import select

from storage.models import FsmRecord
from tests.wizard.conftest import Env
from tests.wizard.helpers import ASK_DOCTOR, ASK_PHONE, BACK, CANCEL, DOCTOR_101, text


async def test_the_doctor_list_is_rendered_once_per_window(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[str | None] = []
    original = Select._render_keyboard

    async def counted(self: Select[Any], data: dict[str, Any], manager: Any) -> Any:
        renders.append(self.widget_id)
        return await original(self, data, manager)

    monkeypatch.setattr(Select, "_render_keyboard", counted)
    u = env.user()
    await u.send_command("start_callback")
    assert ASK_DOCTOR in text(u)
    assert u.buttons()[-4:] == ["◀", "1/3", "▶", CANCEL]
    assert renders == ["doc"]
    await u.press("▶")
    assert "2/3" in u.buttons() and u.buttons()[0] != "Иванова Мария Петровна · Терапевт"
    assert renders == ["doc", "doc"]


async def _stored_conversation(env: Env) -> str:
    async with env.session_factory() as session:
        return " ".join(r for r in await session.scalars(select(FsmRecord.data)) if r)


async def test_the_list_leaves_the_stored_conversation_once_a_doctor_is_chosen(
    env: Env,
) -> None:
    u = env.user()
    await u.send_command("start_callback")
    assert '"doctors"' in await _stored_conversation(env)  # kept while paging
    await u.press(DOCTOR_101)
    assert ASK_PHONE in text(u)
    assert '"doctors"' not in await _stored_conversation(env)
    await u.press(BACK)  # back to the step: the list is there again
    assert ASK_DOCTOR in text(u) and DOCTOR_101 in u.buttons()
