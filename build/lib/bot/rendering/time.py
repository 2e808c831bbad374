"""Times as users see them: always with their zone ("15:30 МСК", "28.11 15:30 UTC+7")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

_MOSCOW_NAMES = frozenset({"Europe/Moscow", "W-SU"})


def zone_label(tz: tzinfo, lang: str, at: datetime | None = None) -> str:
    """"МСК"/"MSK" for Moscow, "UTC" for UTC, else "UTC+7", "UTC-3:30"."""
    key = getattr(tz, "key", None)
    if key in _MOSCOW_NAMES:
        return "МСК" if lang == "ru" else "MSK"
    offset = (at or datetime.now(UTC)).astimezone(tz).utcoffset() or timedelta(0)
    total_minutes = int(offset.total_seconds() // 60)
    if total_minutes == 0:
        return "UTC"
    sign = "+" if total_minutes > 0 else "-"
    hours, minutes = divmod(abs(total_minutes), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def format_local(
    dt_utc: datetime,
    tz: tzinfo,
    lang: str,
    *,
    now: datetime | None = None,
    with_date: bool | None = None,
) -> str:
    """``dt_utc`` in ``tz`` with its zone label.

    The date is shown when the moment is not today in ``tz`` (relative to ``now``), or when
    ``with_date`` forces it; the year only when it is not the current one.
    """
    if dt_utc.tzinfo is None:
        dt_utc = dt_utc.replace(tzinfo=UTC)  # storage returns aware values; be lenient here
    local = dt_utc.astimezone(tz)
    now_local = (now or datetime.now(UTC)).astimezone(tz)
    if with_date is None:
        with_date = local.date() != now_local.date()
    label = zone_label(tz, lang, dt_utc)
    clock = local.strftime("%H:%M")
    if not with_date:
        return f"{clock} {label}"
    date = local.strftime("%d.%m") if local.year == now_local.year else local.strftime("%d.%m.%Y")
    return f"{date} {clock} {label}"
