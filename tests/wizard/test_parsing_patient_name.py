import pytest

from bot.input_parsing import InputError
from bot.input_parsing.patient_name import parse_patient_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванов Иван Иванович", "Иванов Иван Иванович"),
        ("  Петрова   Анна  ", "Петрова Анна"),
        ("Салтыков-Щедрин Михаил", "Салтыков-Щедрин Михаил"),
        ("O'Brien Sean", "O'Brien Sean"),
        ("D’Artagnan Charles", "D’Artagnan Charles"),
        ("Ёлкина\tЖанна\nПетровна", "Ёлкина Жанна Петровна"),
        ("Ли", "Ли"),
        ("Μαρία Παπαδοπούλου", "Μαρία Παπαδοπούλου"),
        ("山田 太郎", "山田 太郎"),
        ("José Müller", "José Müller"),
        ("Jose\u0301 Mu\u0308ller", "José Müller"),  # decomposed → NFC
    ],
)
def test_valid(text: str, expected: str) -> None:
    assert parse_patient_name(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "wizard-name-error-empty"),
        ("   ", "wizard-name-error-empty"),
        (None, "wizard-name-error-empty"),
        ("И", "wizard-name-error-too-short"),
        ("А" * 101, "wizard-name-error-too-long"),
        ("Иванов 2", "wizard-name-error-bad-char"),
        ("Иванов Иван!", "wizard-name-error-bad-char"),
        ("<b>Иван</b>", "wizard-name-error-bad-char"),
        ("Иван 😀", "wizard-name-error-bad-char"),
        ("+7 909 970 85 93", "wizard-name-error-bad-char"),
        ("- '", "wizard-name-error-no-letters"),
    ],
)
def test_invalid(text: str | None, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_patient_name(text)
    assert info.value.reason == reason


def test_bad_char_is_reported() -> None:
    with pytest.raises(InputError) as info:
        parse_patient_name("Иванов_Иван")
    assert info.value.args_ == {"char": "_"}


def test_length_bounds() -> None:
    assert parse_patient_name("Я" * 100) == "Я" * 100
    assert parse_patient_name("  " + "Я" * 100 + "  ") == "Я" * 100
