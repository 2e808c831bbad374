"""Pure builders for the access, language and time flows: time zone parsing, texts, pages.

Nothing here talks to Telegram or the database; handlers pass plain values in and send what
comes out, so every text and every decision about a typed time zone is testable alone.
"""

from __future__ import annotations

import html
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.i18n import Translate as Translate  # re-exported: the keyboards import it from here

# --- time zones ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class City:
    key: str  # short, goes into callback data
    zone: str  # IANA name stored for the user
    name_ru: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_ru if lang == "ru" else self.name_en


# The Russian zones people actually live in, west to east, then UTC. Krasnoyarsk and
# Novosibirsk share an offset today but are separate IANA zones with separate histories.
CITIES: tuple[City, ...] = (
    City("klg", "Europe/Kaliningrad", "Калининград", "Kaliningrad"),
    City("msk", "Europe/Moscow", "Москва", "Moscow"),
    City("sam", "Europe/Samara", "Самара", "Samara"),
    City("ekb", "Asia/Yekaterinburg", "Екатеринбург", "Yekaterinburg"),
    City("oms", "Asia/Omsk", "Омск", "Omsk"),
    City("nsk", "Asia/Novosibirsk", "Новосибирск", "Novosibirsk"),
    City("krs", "Asia/Krasnoyarsk", "Красноярск", "Krasnoyarsk"),
    City("irk", "Asia/Irkutsk", "Иркутск", "Irkutsk"),
    City("yak", "Asia/Yakutsk", "Якутск", "Yakutsk"),
    City("vvo", "Asia/Vladivostok", "Владивосток", "Vladivostok"),
    City("mgd", "Asia/Magadan", "Магадан", "Magadan"),
    City("kam", "Asia/Kamchatka", "Камчатка", "Kamchatka"),
    City("utc", "UTC", "UTC", "UTC"),
)
CITY_BY_KEY: dict[str, City] = {c.key: c for c in CITIES}

# Typed aliases a person is likely to write instead of pressing a button.
_CITY_ALIASES: dict[str, str] = {
    "мск": "msk",
    "msk": "msk",
    "спб": "msk",
    "санкт-петербург": "msk",
    "петербург": "msk",
    "saint petersburg": "msk",
    "st petersburg": "msk",
    "екб": "ekb",
    "ekaterinburg": "ekb",
    "нск": "nsk",
    "петропавловск-камчатский": "kam",
    "gmt": "utc",
    "z": "utc",
}

# Whole-hour offsets map onto the IANA "Etc/GMT∓N" zones (note the inverted sign in their
# names), so what we store is always a key ZoneInfo accepts. The few fractional offsets in
# use today map onto a zone that has that offset and no daylight saving time.
_FRACTIONAL_ZONES: dict[int, str] = {
    3 * 60 + 30: "Asia/Tehran",
    4 * 60 + 30: "Asia/Kabul",
    5 * 60 + 30: "Asia/Kolkata",
    5 * 60 + 45: "Asia/Kathmandu",
    6 * 60 + 30: "Asia/Yangon",
    8 * 60 + 45: "Australia/Eucla",
    9 * 60 + 30: "Australia/Darwin",
    -(9 * 60 + 30): "Pacific/Marquesas",
}

_OFFSET_RE = re.compile(
    r"""^(?:(?:utc|gmt|мск|msk)\s*)?      # optional base (MSK+N is an offset from Moscow)
        (?P<sign>[+\-−–])?\s*
        (?P<hours>\d{1,2})
        (?:(?::|\.|h)?(?P<minutes>\d{2}))?$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class ZoneChoice:
    """A parsed time zone: ``key`` is what gets stored (always accepted by ZoneInfo)."""

    key: str
    tz: ZoneInfo


class TimezoneParseError(ValueError):
    pass


@cache
def _iana_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _zone(key: str) -> ZoneChoice:
    return ZoneChoice(key, ZoneInfo(key))


def zone_for_offset(minutes: int) -> ZoneChoice:
    """A stored zone for a fixed UTC offset given in minutes (east positive)."""
    if minutes == 0:
        return _zone("UTC")
    if minutes % 60 == 0:
        hours = minutes // 60
        if not -12 <= hours <= 14:
            raise TimezoneParseError("offset out of range")
        # Etc/GMT-7 is UTC+7: POSIX sign convention.
        return _zone(f"Etc/GMT{-hours:+d}")
    key = _FRACTIONAL_ZONES.get(minutes)
    if key is None:
        raise TimezoneParseError("unsupported offset")
    return _zone(key)


def parse_timezone(text: str) -> ZoneChoice:
    """A city name, a UTC offset ("UTC+7", "+3", "-05:00", "+0530") or an IANA name.

    Raises TimezoneParseError for anything else, so the caller can ask again.
    """
    raw = " ".join(text.strip().split())
    if not raw or len(raw) > 64:
        raise TimezoneParseError("empty or too long")
    low = raw.lower()
    if low == "utc":
        return _zone("UTC")
    for city in CITIES:
        if low in (city.name_ru.lower(), city.name_en.lower(), city.key):
            return _zone(city.zone)
    alias = _CITY_ALIASES.get(low)
    if alias:
        return _zone(CITY_BY_KEY[alias].zone)
    match = _OFFSET_RE.match(low.replace(" ", ""))
    if match:
        hours = int(match["hours"])
        minutes = int(match["minutes"] or 0)
        if minutes >= 60:
            raise TimezoneParseError("bad minutes")
        total = hours * 60 + minutes
        if match["sign"] in ("-", "−", "–"):
            total = -total
        if low.startswith(("мск", "msk")):
            total += 3 * 60  # "МСК+4" is how Russian timetables write Samara time
        return zone_for_offset(total)
    name = _iana_names().get(low.replace(" ", "_"))
    if name:
        return _zone(name)
    raise TimezoneParseError("unknown zone")


def city_for_zone(key: str) -> City | None:
    for city in CITIES:
        if city.zone == key:
            return city
    return None


def offset_label(tz: tzinfo, at: datetime | None = None) -> str:
    """ "UTC+7", "UTC−3:30", "UTC" — the zone's offset at ``at`` (now by default)."""
    moment = at or datetime.now(UTC)
    offset = moment.astimezone(tz).utcoffset() or timedelta(0)
    total = int(offset.total_seconds()) // 60
    if total == 0:
        return "UTC"
    sign = "+" if total > 0 else "-"
    hours, minutes = divmod(abs(total), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def zone_title(key: str, lang: str, at: datetime | None = None) -> str:
    """How a stored zone is named to its user: "Новосибирск (UTC+7)", "UTC+7", "UTC"."""
    try:
        tz = ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return html.escape(key)
    label = offset_label(tz, at)
    city = city_for_zone(key)
    if city is not None:
        return label if city.key == "utc" else f"{city.name(lang)} ({label})"
    if key.startswith("Etc/") or key == "UTC":
        return label
    return f"{key} ({label})"


# --- roles, users, doctors ------------------------------------------------------------------

ROLES_INVITABLE: tuple[str, ...] = ("coordinator", "doctor")
USERS_PAGE_SIZE = 8
DOCTORS_PAGE_SIZE = 8


class UserLike(Protocol):
    @property
    def telegram_id(self) -> int: ...
    @property
    def display_name(self) -> str: ...
    @property
    def doctor_id(self) -> int | None: ...
    @property
    def is_active(self) -> bool: ...


class DoctorLike(Protocol):
    @property
    def doctor_id(self) -> int: ...
    @property
    def display_name(self) -> str: ...


def role_name(t: Translate, role: str | None) -> str:
    return t(f"access-role-{role}") if role else t("access-role-none")


def user_display_name(user: UserLike) -> str:
    """Escaped, for HTML messages: the Telegram name, else the bare id."""
    name = (user.display_name or "").strip()
    return html.escape(name) if name else str(user.telegram_id)


def user_button_label(t: Translate, user: UserLike, role: str | None) -> str:
    """Plain text (buttons are not HTML); trimmed to keep the keyboard readable; the role in
    the reader's language, as in the listing above it."""
    name = (user.display_name or "").strip() or str(user.telegram_id)
    if len(name) > 28:
        name = name[:27] + "…"
    mark = "" if user.is_active else "⛔ "
    return f"{mark}{name} · {role_name(t, role) if role else '—'}"


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 0-based
    total_pages: int

    @property
    def has_prev(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number + 1 < self.total_pages


def page_of(total: int, number: int, size: int) -> Page:
    """Clamp a requested page number into range (a stale button may ask for a gone page)."""
    pages = max(1, -(-total // size))
    return Page(min(max(number, 0), pages - 1), pages)


def _list_text(t: Translate, kind: str, page: Page, total: int, lines: Sequence[str]) -> str:
    """A paged list: ``access-<kind>-title`` over the lines, or ``access-<kind>-empty``."""
    if not lines:
        return t(f"access-{kind}-empty")
    title = t(f"access-{kind}-title", total=total, page=page.number + 1, pages=page.total_pages)
    return "\n".join([title, *lines])


def _user_fields(t: Translate, user: UserLike, role: str | None) -> dict[str, object]:
    """What a user's list line and card both say."""
    return {
        "name": user_display_name(user),
        "user_id": user.telegram_id,
        "role": role_name(t, role),
        "doctor": _doctor_suffix(t, user.doctor_id),
        "active": t("access-active-yes") if user.is_active else t("access-active-no"),
    }


def users_text(
    t: Translate,
    rows: Sequence[tuple[UserLike, str | None]],
    page: Page,
    total: int,
) -> str:
    lines = [t("access-users-line", **_user_fields(t, user, role)) for user, role in rows]
    return _list_text(t, "users", page, total, lines)


def _doctor_suffix(t: Translate, doctor_id: int | None) -> str:
    return t("access-users-doctor", doctor_id=doctor_id) if doctor_id is not None else ""


def user_card_text(t: Translate, user: UserLike, role: str | None, *, is_config_admin: bool) -> str:
    text = t("access-user-card", **_user_fields(t, user, role))
    if is_config_admin:
        text += "\n" + t("access-user-config-admin")
    return text


def doctors_text(t: Translate, rows: Sequence[DoctorLike], page: Page, total: int) -> str:
    lines = [
        t("access-doctors-line", doctor_id=doctor.doctor_id, name=html.escape(doctor.display_name))
        for doctor in rows
    ]
    return _list_text(t, "doctors", page, total, lines)


def doctor_button_label(doctor: DoctorLike) -> str:
    name = doctor.display_name
    if len(name) > 30:
        name = name[:29] + "…"
    return f"{doctor.doctor_id} · {name}"


def clean_doctor_name(text: str) -> str | None:
    """A name typed by an admin: one line, 2–120 characters; None when it does not fit."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= 120:
        return None
    return name


def parse_doctor_id(text: str) -> int | None:
    raw = text.strip().lstrip("#")
    if not raw.isdigit() or len(raw) > 12:
        return None
    value = int(raw)
    return value if value > 0 else None


def greeting_key(role: str | None) -> str:
    return (
        f"access-greeting-{role}"
        if role in ("admin", "coordinator", "doctor")
        else ("access-greeting-stranger")
    )


def help_key(role: str | None) -> str:
    return f"help-{role}" if role in ("admin", "coordinator", "doctor") else "help-stranger"


def format_args(**kwargs: object) -> dict[str, object]:
    """Drop None so Fluent selectors see a missing variable, not the string "None"."""
    return {k: v for k, v in kwargs.items() if v is not None}


def greeting_text(t: Translate, role: str | None, name: str, doctor_id: int | None) -> str:
    """The greeting after /start, /help or a joined invite: who you are, then what you can do.

    ``name`` is the raw Telegram name; it is escaped here.
    """
    hello = t(greeting_key(role), name=html.escape(name or ""), doctor_id=doctor_id or "")
    return f"{hello}\n\n{t(help_key(role))}"
