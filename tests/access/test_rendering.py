"""Pure builders: callback data within 64 bytes, escaping, paging, greetings in both languages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.callback_data import (
    DoctorsAction,
    DoctorsCb,
    InvitePick,
    LangPick,
    NotifyPick,
    TzCity,
    UsersAction,
    UsersCb,
)
from bot.i18n import I18n
from bot.keyboards.access import user_card_keyboard, users_keyboard
from bot.rendering.access import (
    clean_doctor_name,
    greeting_text,
    page_of,
    parse_doctor_id,
    users_text,
)


@dataclass
class FakeUserRow:
    telegram_id: int
    display_name: str
    doctor_id: int | None = None
    is_active: bool = True


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(strict=True)


def test_callback_data_fits_in_64_bytes_at_the_extremes() -> None:
    big = 10**15
    samples = [
        UsersCb(action=UsersAction.REVOKE_OK, user_id=-big, page=big, doctor_id=big),
        DoctorsCb(action=DoctorsAction.REMOVE_OK, doctor_id=big, page=big),
        InvitePick(role="coordinator", doctor_id=big),
        TzCity(city="msk"),
        LangPick(lang="ru"),
        NotifyPick(mode="essentials"),
    ]
    prefixes = set()
    for cb in samples:
        packed = cb.pack()
        assert len(packed.encode()) <= 64, packed
        assert type(cb).unpack(packed) == cb
        prefixes.add(packed.split(":", 1)[0])
    assert len(prefixes) == len(samples)


def test_users_text_escapes_names_and_shows_flags(i18n: I18n) -> None:
    t = i18n.translator("en")
    rows = [
        (FakeUserRow(1, "<b>Eve</b> & co", None, True), "coordinator"),
        (FakeUserRow(2, "", 101, False), "doctor"),
    ]
    text = users_text(t, rows, page_of(2, 0, 8), 2)
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in text
    assert "<b>Eve</b>" not in text
    assert "doctor, doctor 101, switched off" in text
    assert "(<code>2</code>)" in text
    markup = users_keyboard(t, [(u.telegram_id, u, r) for u, r in rows], page_of(2, 0, 8))
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels == ["<b>Eve</b> & co · coordinator", "⛔ 2 · doctor"]
    ru = i18n.translator("ru")
    markup = users_keyboard(ru, [(u.telegram_id, u, r) for u, r in rows], page_of(2, 0, 8))
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels == ["<b>Eve</b> & co · координатор", "⛔ 2 · врач"]  # never the raw value


def test_user_card_keyboard_hides_changes_for_config_admins(i18n: I18n) -> None:
    t = i18n.translator("ru")
    markup = user_card_keyboard(t, 5, "admin", is_active=True, is_config_admin=True, page=0)
    assert [b.text for row in markup.inline_keyboard for b in row] == ["◀ Назад"]


def test_paging_clamps_stale_pages() -> None:
    assert page_of(0, 3, 8).number == 0
    page = page_of(17, 9, 8)
    assert (page.number, page.total_pages, page.has_prev, page.has_next) == (2, 3, True, False)


def test_inputs() -> None:
    assert parse_doctor_id(" #101 ") == 101
    assert parse_doctor_id("0") is None and parse_doctor_id("1e3") is None
    assert clean_doctor_name("  Иванова   Мария ") == "Иванова Мария"
    assert clean_doctor_name("x") is None and clean_doctor_name("y" * 121) is None


@pytest.mark.parametrize(
    ("lang", "role", "expected"),
    [
        ("ru", "coordinator", "Вы координатор"),
        ("en", "doctor", "You are a doctor (id 7)"),
        ("en", "admin", "/users"),
    ],
)
def test_greeting(i18n: I18n, lang: str, role: str, expected: str) -> None:
    text = greeting_text(i18n.translator(lang), role, "<Ann>", 7)
    assert expected in text
    assert "&lt;Ann&gt;" in text
