"""Numbers, money and dates in the user's language (CLDR data through babel): the report's
message, chart and file. ``lang`` is one of bot.i18n.LANGUAGES ("ru", "en")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_interval, format_skeleton
from babel.numbers import format_currency, format_decimal, get_currency_symbol


def integer(value: int, lang: str) -> str:
    """``1 200`` / ``1,200``."""
    return format_decimal(value, locale=lang)


def amount(cents: int, lang: str, *, grouping: bool = True) -> str:
    """``12 345,50`` / ``12,345.50``; without grouping for a file's cells: ``12345,50``."""
    return format_decimal(
        Decimal(cents) / 100, format="#,##0.00" if grouping else "0.00", locale=lang
    )


def money(cents: int, currency: str, lang: str) -> str:
    """``12 345,50 ₽`` / ``$12,345.50``; a currency with no sign of its own in the language
    (RUB in English, Bonus) is written after the number: ``12,345.50 RUB``."""
    symbol = get_currency_symbol(currency, locale=lang)
    if symbol.isalpha():
        return f"{amount(cents, lang)}\u00a0{currency}"
    return format_currency(Decimal(cents) / 100, currency, locale=lang)


def period_text(first: date, last: date, lang: str) -> str:
    """``1–31 мая 2026 г.`` / ``May 1 – 31, 2026``; one day alone when they are the same."""
    return format_interval(first, last, "yMMMd", locale=lang)


def day_label(day: date, lang: str) -> str:
    """A chart's day: ``01.05`` / ``5/1``."""
    return format_skeleton("dM", day, locale=lang)


def day_text(day: date, lang: str) -> str:
    """A day in a sentence: ``1 мая 2026 г.`` / ``May 1, 2026``."""
    return format_skeleton("yMMMd", day, locale=lang)
