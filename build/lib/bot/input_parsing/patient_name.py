"""Patient full name: what a person's name may look like, in any script."""

from __future__ import annotations

import re
import unicodedata

from bot.input_parsing.errors import InputError

MIN_LENGTH = 2
MAX_LENGTH = 100
_APOSTROPHES = {"'", "’"}
_HYPHENS = {"-"}


def parse_patient_name(text: str | None) -> str:
    """Trimmed, spaces collapsed, NFC; letters of any script, hyphens, apostrophes, spaces.

    Raises ``InputError`` with ``wizard-name-error-{empty,too-short,too-long,bad-char,
    no-letters}``.
    """
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()
    if not name:
        raise InputError("wizard-name-error-empty")
    if len(name) > MAX_LENGTH:
        raise InputError("wizard-name-error-too-long", max=MAX_LENGTH)
    for char in name:
        if char == " " or char in _APOSTROPHES or char in _HYPHENS:
            continue
        category = unicodedata.category(char)
        # M*: combining marks that survive NFC (e.g. some Indic and Arabic diacritics).
        if category.startswith("L") or category.startswith("M"):
            continue
        raise InputError("wizard-name-error-bad-char", char=char)
    if not any(unicodedata.category(c).startswith("L") for c in name):
        raise InputError("wizard-name-error-no-letters")
    if len(name) < MIN_LENGTH:
        raise InputError("wizard-name-error-too-short", min=MIN_LENGTH)
    return name
