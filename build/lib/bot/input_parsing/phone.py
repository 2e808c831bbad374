"""Patient phone numbers: any common form in, E.164 + ``{code, number}`` out."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from bot.input_parsing.errors import InputError

DEFAULT_REGION = "RU"
MASK = "•••"

# Characters people put in phone numbers; anything else (letters, emoji) is not a number.
_ALLOWED = re.compile(r"^[\d\s()+\-.‐‑‒–—/]+$")


@dataclass(frozen=True, slots=True)
class ParsedPhone:
    e164: str  # "+79099708593"
    code: str  # "7"
    number: str  # "9099708593"
    display: str  # "+7 909 970-85-93"

    def as_api(self) -> dict[str, str]:
        return {"code": self.code, "number": self.number}


def parse_phone(text: str | None, default_region: str = DEFAULT_REGION) -> ParsedPhone:
    """Parse a typed phone or a contact card's phone (which may come without ``+``).

    Raises ``InputError`` with one of ``wizard-phone-error-{empty,not-a-number,too-short,
    too-long,invalid}``.
    """
    # Numbers pasted from contacts or messengers carry invisible direction marks and the
    # like (U+200E, U+202A…, U+2066…: Unicode category Cf); they are not part of the number.
    raw = "".join(ch for ch in (text or "") if unicodedata.category(ch) != "Cf").strip()
    if not raw:
        raise InputError("wizard-phone-error-empty")
    if not _ALLOWED.match(raw):
        # phonenumbers would read "ext. 12" or vanity letters; the API takes neither.
        raise InputError("wizard-phone-error-not-a-number")
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 7:
        raise InputError("wizard-phone-error-too-short")
    if len(digits) > 15:  # E.164 maximum
        raise InputError("wizard-phone-error-too-long")

    candidates = [raw]
    if not raw.lstrip().startswith("+"):
        # Contact cards carry "447946095800"-style international digits without "+".
        candidates.append("+" + digits)
    for candidate in candidates:
        number = _try_parse(candidate, default_region)
        if number is not None and phonenumbers.is_valid_number(number):
            return _result(number)
    raise InputError("wizard-phone-error-invalid")


def _try_parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def _result(number: phonenumbers.PhoneNumber) -> ParsedPhone:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    code = str(number.country_code)
    return ParsedPhone(
        e164=e164,
        code=code,
        # Taken from E.164 rather than national_number: keeps Italy's leading zero.
        number=e164[len(code) + 1 :],
        display=phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
    )


def format_phone(e164: str) -> str:
    """Display form of a stored E.164 number (falls back to the input when unparsable)."""
    number = _try_parse(e164, DEFAULT_REGION)
    if number is None:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str) -> str:
    """``+79099708593`` → ``+7 ••• ••• 85 93``: enough to recognise, not to dial."""
    number = _try_parse(e164, DEFAULT_REGION)
    if number is not None:
        code = str(number.country_code)
        national = e164.removeprefix("+")[len(code) :]
    else:
        digits = re.sub(r"\D", "", e164)
        code, national = digits[:1], digits[1:]
    if len(national) < 4:
        return f"+{code} {MASK}"
    tail = f"{national[-4:-2]} {national[-2:]}"
    hidden = len(national) - 4
    groups = max(1, (hidden + 2) // 3)
    return f"+{code} {' '.join([MASK] * groups)} {tail}"
