import pytest

from bot.input_parsing import InputError
from bot.input_parsing.phone import format_phone, mask_phone, parse_phone

RU = ("+79099708593", "7", "9099708593", "+7 909 970-85-93")


@pytest.mark.parametrize(
    "text",
    [
        "+7 909 970-85-93",
        "8 (909) 970 85 93",
        "9099708593",
        "89099708593",
        "79099708593",  # a contact card without "+"
        "+79099708593",
        " +7(909)970-85-93 ",
        "8-909-970-85-93",
        "+7 909 970–85–93",  # en dashes from a phone book
    ],
)
def test_russian_forms(text: str) -> None:
    parsed = parse_phone(text)
    assert (parsed.e164, parsed.code, parsed.number, parsed.display) == RU
    assert parsed.as_api() == {"code": "7", "number": "9099708593"}


@pytest.mark.parametrize(
    ("text", "e164", "code", "number"),
    [
        ("+44 20 7946 0958", "+442079460958", "44", "2079460958"),
        ("442079460958", "+442079460958", "44", "2079460958"),  # contact card, no "+"
        ("+1 650 253 0000", "+16502530000", "1", "6502530000"),
        ("+39 06 6982 1234", "+390669821234", "39", "0669821234"),  # Italian leading zero
        ("+375 29 123-45-67", "+375291234567", "375", "291234567"),
        ("8 10 44 20 7946 0958", "+442079460958", "44", "2079460958"),  # RU IDD prefix
    ],
)
def test_international(text: str, e164: str, code: str, number: str) -> None:
    parsed = parse_phone(text)
    assert (parsed.e164, parsed.code, parsed.number) == (e164, code, number)


def test_default_region_from_settings() -> None:
    assert parse_phone("020 7946 0958", default_region="GB").e164 == "+442079460958"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "wizard-phone-error-empty"),
        ("   ", "wizard-phone-error-empty"),
        (None, "wizard-phone-error-empty"),
        ("Иван", "wizard-phone-error-not-a-number"),
        ("+7 909 970 85 93 доб. 12", "wizard-phone-error-not-a-number"),
        ("+7 909 CALL ME", "wizard-phone-error-not-a-number"),
        ("123", "wizard-phone-error-too-short"),
        ("12345678901234567", "wizard-phone-error-too-long"),
        ("+7 000 000 00 00", "wizard-phone-error-invalid"),
        ("909970859", "wizard-phone-error-invalid"),
        ("+999 123 456 789", "wizard-phone-error-invalid"),
    ],
)
def test_invalid(text: str | None, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_phone(text)
    assert info.value.reason == reason


def test_input_error_is_value_error() -> None:
    # aiogram-dialog's TextInput sends ValueError from type_factory to on_error.
    with pytest.raises(ValueError):
        parse_phone("abc")


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+79099708593", "+7 ••• ••• 85 93"),
        ("+442079460958", "+44 ••• ••• 09 58"),
        ("+375291234567", "+375 ••• ••• 45 67"),
    ],
)
def test_mask(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked
    assert "9099708" not in mask_phone("+79099708593")


def test_format_stored() -> None:
    assert format_phone("+79099708593") == "+7 909 970-85-93"
    assert format_phone("garbage") == "garbage"


@pytest.mark.parametrize(
    "text",
    [
        "\u200e+7 909 970-85-93\u200e",  # left-to-right marks from a contact
        "\u202a+7 (909) 970-85-93\u202c",  # embedding marks (WhatsApp)
        "\u2066+79099708593\u2069",  # isolates
        "+7\u00a0909\u00a0970\u201185\u201193",  # no-break spaces and hyphens
        "\ufeff89099708593",  # a byte-order mark
    ],
)
def test_invisible_format_characters_are_ignored(text: str) -> None:
    parsed = parse_phone(text)
    assert (parsed.e164, parsed.code, parsed.number, parsed.display) == RU
