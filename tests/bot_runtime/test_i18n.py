"""Fluent texts: both languages, fallback, key parity and clean parsing of every .ftl."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.i18n import LOCALES_DIR, I18n, message_ids, parse_errors, resolve_language

FTL_FILES = sorted(LOCALES_DIR.glob("*/*.ftl"))


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


def test_both_languages_render(i18n: I18n) -> None:
    ru = i18n.translator("ru")("access-no-access", user_id=123456789)
    en = i18n.translator("en")("access-no-access", user_id=123456789)
    assert "Telegram id" in ru and "нет доступа" in ru
    assert "no access" in en
    # The id stays one token: no locale digit grouping, no Unicode isolation marks.
    for text in (ru, en):
        assert "123456789" in text
        assert "\u2068" not in text and "\u2069" not in text


@pytest.mark.parametrize("path", FTL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ftl_parses_without_junk(path: Path) -> None:
    assert parse_errors(path.read_text(encoding="utf-8")) == []


def test_every_key_exists_in_both_languages() -> None:
    keys: dict[str, set[str]] = {}
    for lang in ("ru", "en"):
        keys[lang] = set()
        for path in (LOCALES_DIR / lang).glob("*.ftl"):
            keys[lang] |= message_ids(path.read_text(encoding="utf-8"))
    assert keys["ru"], "no Russian texts loaded"
    assert sorted(keys["ru"] - keys["en"]) == [], "keys missing in en"
    assert sorted(keys["en"] - keys["ru"]) == [], "keys missing in ru"


def test_same_file_names_in_both_languages() -> None:
    names = {lang: {p.name for p in (LOCALES_DIR / lang).glob("*.ftl")} for lang in ("ru", "en")}
    assert names["ru"] == names["en"]


def test_missing_key_falls_back_then_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "ru").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "ru" / "x.ftl").write_text("only-ru = Только по-русски\n", encoding="utf-8")
    (tmp_path / "en" / "x.ftl").write_text(
        "only-en = English only { $n }\nshared = Shared\n", encoding="utf-8"
    )
    (tmp_path / "ru" / "y.ftl").write_text("shared = Общий\n", encoding="utf-8")
    i18n = I18n(tmp_path)
    ru, en = i18n.translator("ru"), i18n.translator("en")
    with caplog.at_level(logging.WARNING, logger="bot.i18n"):
        assert ru("only-en", n=5) == "English only 5"
        assert ru("only-en", n=6) == "English only 6"
        assert en("only-ru") == "Только по-русски"
        assert en("nowhere") == "nowhere"
        assert en("nowhere") == "nowhere"
    assert ru("shared") == "Общий" and en("shared") == "Shared"
    misses = [r.getMessage() for r in caplog.records]
    assert sum("key=only-en" in m for m in misses) == 1
    assert sum("key=nowhere" in m for m in misses) == 1
    assert sum("key=only-ru" in m for m in misses) == 1


def test_junk_is_refused_in_strict_mode(tmp_path: Path) -> None:
    (tmp_path / "ru").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "ru" / "bad.ftl").write_text("good = ok\nthis is not fluent\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.ftl"):
        I18n(tmp_path, strict=True)


@pytest.mark.parametrize(
    ("chosen", "code", "expected"),
    [
        (None, "ru", "ru"),
        (None, "uk", "ru"),
        (None, "be", "ru"),
        (None, "kk", "ru"),
        (None, "ru-RU", "ru"),
        (None, "de", "en"),
        (None, None, "en"),
        ("en", "ru", "en"),
        ("ru", "en", "ru"),
        ("xx", "ru", "ru"),
    ],
)
def test_resolve_language(chosen: str | None, code: str | None, expected: str) -> None:
    assert resolve_language(chosen, code) == expected


def test_unknown_language_gets_english(i18n: I18n) -> None:
    assert i18n.translator("de").lang == "en"
    assert i18n.translator(None).lang == "en"
