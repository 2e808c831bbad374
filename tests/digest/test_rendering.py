"""The digest's text, without Telegram: sections, zones, languages, and no patient name
outside a private chat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n
from bot.rendering.digest import digest_text
from bot.services.digest import MAX_NEEDS_HAND, MAX_SCHEDULED, Digest
from storage.enums import ConsultationState
from storage.models import Consultation
from storage.repositories.consultations import Listed, OutcomeCounts
from tests.fixed_days import MSK

NSK = ZoneInfo("Asia/Novosibirsk")
DAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # 09:00 MSK, 13:00 NSK


def _row(
    cid: int,
    begin_at: datetime | None = None,
    *,
    partner_id: str | None = None,
    doctor: str = "Иванова Мария",
    patient: str = "Петров Пётр",
    **values: object,
) -> Consultation:
    return Consultation(
        id=cid,
        partner_id=partner_id if partner_id is not None else f"abcd{cid:04d}-0000-partner",
        state=ConsultationState.ACTIVE,
        doctor_name=doctor,
        patient_name=patient,
        begin_at=begin_at,
        created_at=NOW - timedelta(days=1),
        **values,
    )


def _digest(**overrides: object) -> Digest:
    values: dict[str, object] = {
        "day": DAY,
        "own": False,
        "scheduled": Listed(
            (_row(1, NOW + timedelta(hours=1, minutes=30)), _row(2, NOW + timedelta(hours=5))),
            2,
        ),
        "outcomes": OutcomeCounts(processed=1234, unsuccessful=2, terminated=1),
        "stuck": Listed(
            (_row(3, partner_id="", start_attempted_at=NOW - timedelta(minutes=50)),), 1
        ),
        "unrepeated": Listed(
            (_row(4, last_status_at=NOW - timedelta(hours=16), patient="Сидорова Анна"),), 1
        ),
    }
    values.update(overrides)
    return Digest(**values)  # type: ignore[arg-type]


def test_coordinator_digest_in_russian(i18n: I18n) -> None:
    text = digest_text(_digest(), i18n.translator("ru"), MSK, "ru", now=NOW, private=True)
    lines = text.splitlines()
    assert lines[0] == "☀️ <b>Сводка на понедельник, 1 июня 2026\u202fг.</b>"
    assert "<b>Сегодня</b> 2 запланированных звонка:" in lines
    assert "10:30 МСК · Иванова Мария · <code>abcd0001</code> · Петров Пётр" in lines
    assert "14:00 МСК · Иванова Мария · <code>abcd0002</code> · Петров Пётр" in lines
    # Numbers as Russian writes them (a no-break space between thousands).
    assert "<b>Вчера</b>: состоялось 1\xa0234 · не состоялось 2 · прервано 1" in lines
    assert "<b>Требует внимания</b>" in lines
    assert "08:10 МСК · Иванова Мария · <code>#3</code> · Петров Пётр" in lines  # no partner id
    assert "31.05 17:00 МСК · Иванова Мария · <code>abcd0004</code> · Сидорова Анна" in lines


def test_english_and_the_readers_zone(i18n: I18n) -> None:
    text = digest_text(_digest(), i18n.translator("en"), NSK, "en", now=NOW, private=True)
    assert text.startswith("☀️ <b>Digest for Monday, June 1, 2026</b>")
    assert "<b>Today</b>, 2 scheduled callbacks:" in text
    assert "14:30 UTC+7 · Иванова Мария · <code>abcd0001</code> · Петров Пётр" in text
    assert "<b>Yesterday</b>: 1,234 took place · 2 did not take place · 1 terminated" in text


def test_no_patient_names_outside_a_private_chat(i18n: I18n) -> None:
    text = digest_text(_digest(), i18n.translator("ru"), MSK, "ru", now=NOW, private=False)
    assert "Петров" not in text and "Сидорова" not in text
    assert "10:30 МСК · Иванова Мария · <code>abcd0001</code>" in text.splitlines()


def test_doctors_digest_has_no_needs_a_hand(i18n: I18n) -> None:
    digest = _digest(own=True, stuck=None, unrepeated=None)
    text = digest_text(digest, i18n.translator("en"), MSK, "en", now=NOW, private=True)
    assert text.startswith("☀️ <b>Your digest for Monday, June 1, 2026</b>")
    assert "Needs a hand" not in text


def test_empty_sections_say_so(i18n: I18n) -> None:
    digest = Digest(day=DAY, own=False, stuck=Listed(), unrepeated=Listed())
    text = digest_text(digest, i18n.translator("en"), MSK, "en", now=NOW, private=True)
    assert text.splitlines()[2:] == [
        "<b>Today</b>: no scheduled callbacks.",
        "",
        "<b>Yesterday</b>: no consultation ended.",
        "",
        "<b>Needs a hand</b>: nothing.",
    ]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_longest_digest_fits_one_message(i18n: I18n, lang: str) -> None:
    """Full lists of the longest names and HTML-hungry text stay within Telegram's 4,096
    characters (as the user sees them: escapes count once), the rest counted."""
    long = "Константинопольская-Кшесинская Александра Вячеславовна " * 3 + "<&>"

    def rows(n: int, first: int) -> tuple[Consultation, ...]:
        return tuple(
            _row(
                first + i,
                NOW + timedelta(minutes=i),
                doctor=long,
                patient=long,
                start_attempted_at=NOW - timedelta(days=2),
                last_status_at=NOW - timedelta(days=1),
            )
            for i in range(n)
        )

    digest = _digest(
        scheduled=Listed(rows(MAX_SCHEDULED, 100), 250),
        stuck=Listed(rows(MAX_NEEDS_HAND, 400), 9),
        unrepeated=Listed(rows(MAX_NEEDS_HAND, 500), 12),
    )
    text = digest_text(
        digest, i18n.translator(lang), ZoneInfo("Asia/Kolkata"), lang, now=NOW, private=True
    )
    visible = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    for tag in ("<b>", "</b>", "<code>", "</code>"):
        visible = visible.replace(tag, "")
    assert len(visible) < 4096 - 100, len(visible)  # room for the sandbox's demo mark
    assert "&lt;&amp;&gt;" not in text  # cut before the end of the long name
    assert ("…и ещё 235: /list" if lang == "ru" else "…and 235 more: /list") in text
