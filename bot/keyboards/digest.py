"""The morning digest's buttons under /settings: a few common times, Off, and "Other time…"
(which asks for a typed HH:MM). The current choice is ticked."""

from __future__ import annotations

from datetime import time

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import DigestPick
from bot.i18n import Translate
from bot.rendering.digest import clock_text

# The times offered as buttons (the default 09:00 among them); any other is typed.
PRESET_TIMES: tuple[time, ...] = (time(7, 0), time(8, 0), time(9, 0), time(10, 0))
OFF = "off"
OTHER = "other"


def preset_value(at: time) -> str:
    """A preset time as its button carries it: "0900"."""
    return f"{at.hour:02d}{at.minute:02d}"


PRESETS: dict[str, time] = {preset_value(at): at for at in PRESET_TIMES}


def _button(text: str, at: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=DigestPick(at=at).pack())


def digest_rows(t: Translate, current: time | None) -> list[list[InlineKeyboardButton]]:
    def tick(on: bool) -> str:
        return "✓ " if on else ""

    presets = [
        _button(tick(at == current) + clock_text(at), preset_value(at)) for at in PRESET_TIMES
    ]
    if current is not None and current not in PRESET_TIMES:
        other = _button(t("digest-button-other-current", time=clock_text(current)), OTHER)
    else:
        other = _button(t("digest-button-other"), OTHER)
    off = _button(tick(current is None) + t("digest-button-off"), OFF)
    return [presets, [off, other]]


def with_digest_rows(
    markup: InlineKeyboardMarkup, t: Translate, current: time | None
) -> InlineKeyboardMarkup:
    """``markup`` (the notification modes) with the digest's rows below."""
    return InlineKeyboardMarkup(inline_keyboard=[*markup.inline_keyboard, *digest_rows(t, current)])
