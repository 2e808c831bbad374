"""Pure parts: filters → statuses, marks, rows, pages, callback data sizes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.callback_data import (
    ConsAction,
    ConsCallback,
    ListFilter,
    ListPosition,
    SortKey,
)
from bot.i18n import I18n
from bot.rendering.consultation_list import (
    ListRow,
    clamp_page,
    page_count,
    page_text,
    row_text,
    status_mark,
    statuses_for,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(strict=True)


def test_filters_map_to_partner_statuses() -> None:
    assert statuses_for("act") == (
        "Registered", "PreProcessing", "Delayed", "Processing", "PostProcessing",
    )
    assert statuses_for("sch") == ("Delayed",)
    assert statuses_for("fin") == ("Processed", "Unsuccessful")
    assert statuses_for("all") is None


def test_marks_per_status_group() -> None:
    assert status_mark("Registered") == status_mark("PreProcessing")
    assert status_mark("Processing") == status_mark("PostProcessing")
    assert len({status_mark(s) for s in ("Registered", "Delayed", "Processing",
                                           "Processed", "Unsuccessful")}) == 5
    assert status_mark(None) == status_mark("Whatever")


def test_pages() -> None:
    assert page_count(0) == 1
    assert page_count(8) == 1
    assert page_count(9) == 2
    assert page_count(57) == 8
    assert clamp_page(9, 57) == 7
    assert clamp_page(-1, 57) == 0


def test_row_masks_the_phone_and_carries_the_zone(i18n: I18n) -> None:
    row = ListRow(
        cid=5, status="Processing", patient_name="Петров <Пётр>", patient_phone="+79099708593",
        doctor_name="Иванова Мария", start_at=datetime(2026, 3, 10, 12, 30, tzinfo=UTC),
        external=True,
    )
    text = row_text(row, 3, i18n.translator("en"), MSK, now=NOW)
    assert "+7 ••• ••• 85 93" in text
    assert "9099708593" not in text
    assert "Петров &lt;Пётр&gt;" in text
    assert "15:30 MSK" in text
    assert "started elsewhere" in text
    assert text.startswith("3. ")


def test_page_text_position_and_empty(i18n: I18n) -> None:
    t = i18n.translator("en")
    row = ListRow(1, "Delayed", "A", None, "D", None)
    text = page_text([row], t, MSK, filter_value="sch", page=1, total=17)
    assert "Page 2 of 3 · 17 in total" in text
    assert text.splitlines()[2].startswith("9. ")
    empty = page_text([], t, MSK, filter_value="fin", page=0, total=0)
    assert "Nothing here." in empty and "/start_callback" in empty
    ru = page_text([], i18n.translator("ru"), MSK, filter_value="all", page=0, total=0,
                   can_start=False)
    assert "Здесь пусто." in ru and "/start_callback" not in ru


def test_callback_data_within_64_bytes_and_round_trips() -> None:
    biggest = ConsCallback(
        act=ConsAction.RESCHEDULE_YES, cid=2**31 - 1, f=ListFilter.MINE, o=SortKey.STATUS,
        a=True, p=99999,
    )
    packed = biggest.pack()
    assert len(packed.encode()) <= 64
    assert ConsCallback.unpack(packed) == biggest
    pos = ListPosition(f=ListFilter.FINISHED, o=SortKey.STATUS, a=True, p=3)
    assert ListPosition.unpack(pos.pack()) == pos
    assert biggest.position().f is ListFilter.MINE
