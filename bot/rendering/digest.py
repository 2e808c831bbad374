"""The morning digest as one message, and its line in /settings. Pure: the content comes
from bot/services/digest.py (read through the protocols below), texts from the locales.

Patient names appear only in a private chat (``private``); the job sends digests to the
reader's own private chat only, so in practice they always do — a group never gets one.
Times carry the reader's zone; counts and the date are formatted by Fluent for the language
("1 234" / "1,234", "понедельник, 1 июня 2026 г." / "Monday, June 1, 2026").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from html import escape
from typing import TYPE_CHECKING, Protocol

from bot.i18n import Translate
from bot.rendering.time import format_local, zone_label

if TYPE_CHECKING:  # the rows are read, never queried: no database import at run time
    from storage.models import Consultation

# Names are cut to this many characters: the longest lists stay under Telegram's 4,096.
NAME_MAX = 40


class ListedLike(Protocol):
    @property
    def rows(self) -> Sequence[Consultation]: ...
    @property
    def total(self) -> int: ...


class OutcomesLike(Protocol):
    @property
    def processed(self) -> int: ...
    @property
    def unsuccessful(self) -> int: ...
    @property
    def terminated(self) -> int: ...
    @property
    def total(self) -> int: ...


class DigestLike(Protocol):
    @property
    def day(self) -> date: ...
    @property
    def own(self) -> bool: ...
    @property
    def scheduled(self) -> ListedLike: ...
    @property
    def outcomes(self) -> OutcomesLike: ...
    @property
    def stuck(self) -> ListedLike | None: ...
    @property
    def unrepeated(self) -> ListedLike | None: ...


def short_id(consultation: Consultation) -> str:
    """The id people see in every message: the partner id's first block (as the card's)."""
    if consultation.partner_id:
        return consultation.partner_id.split("-", 1)[0][:8]
    return f"#{consultation.id}"


def _name(value: str | None) -> str:
    text = " ".join((value or "—").split())
    if len(text) > NAME_MAX:
        text = text[: NAME_MAX - 1].rstrip() + "…"
    return escape(text)


def _line(consultation: Consultation, t: Translate, when: str | None, *, private: bool) -> str:
    parts = [when] if when else []
    parts += [_name(consultation.doctor_name), f"<code>{escape(short_id(consultation))}</code>"]
    if private:
        parts.append(_name(consultation.patient_name))
    return " · ".join(parts)


def _more(t: Translate, listed: ListedLike) -> list[str]:
    hidden = listed.total - len(listed.rows)
    return [t("digest-more", count=hidden)] if hidden > 0 else []


def digest_text(
    digest: DigestLike, t: Translate, tz: tzinfo, lang: str, *, now: datetime, private: bool
) -> str:
    title = t("digest-title-own" if digest.own else "digest-title", day=digest.day)
    lines = [title, ""]

    scheduled = digest.scheduled
    if scheduled.total:
        lines.append(t("digest-today", count=scheduled.total))
        for c in scheduled.rows:
            when = format_local(c.begin_at, tz, lang, now=now) if c.begin_at else None
            lines.append(_line(c, t, when, private=private))
        lines += _more(t, scheduled)
    else:
        lines.append(t("digest-today-none"))

    lines.append("")
    o = digest.outcomes
    if o.total:
        lines.append(
            t(
                "digest-yesterday",
                processed=o.processed,
                unsuccessful=o.unsuccessful,
                terminated=o.terminated,
            )
        )
    else:
        lines.append(t("digest-yesterday-none"))

    if digest.stuck is None or digest.unrepeated is None:
        return "\n".join(lines)  # not this reader's hand to give
    lines.append("")
    if not (digest.stuck.total or digest.unrepeated.total):
        lines.append(t("digest-hand-none"))
        return "\n".join(lines)
    lines.append(t("digest-hand"))
    if digest.stuck.total:
        lines.append(t("digest-hand-unknown", count=digest.stuck.total))
        for c in digest.stuck.rows:
            since = c.start_attempted_at or c.created_at
            lines.append(_line(c, t, format_local(since, tz, lang, now=now), private=private))
        lines += _more(t, digest.stuck)
    if digest.unrepeated.total:
        lines.append(t("digest-hand-unrepeated", count=digest.unrepeated.total))
        for c in digest.unrepeated.rows:
            failed = c.last_status_at or c.updated_at
            lines.append(_line(c, t, format_local(failed, tz, lang, now=now), private=private))
        lines += _more(t, digest.unrepeated)
    return "\n".join(lines)


# --- /settings ------------------------------------------------------------------------------


def clock_text(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def digest_setting_text(
    t: Translate,
    at: time | None,
    *,
    is_default: bool,
    next_day: date | None,
    today: date,
    tz: tzinfo,
    lang: str,
    now: datetime,
) -> str:
    """The digest's part of the /settings message."""
    if at is None:
        return t("digest-setting-off")
    when = f"{clock_text(at)} {zone_label(tz, lang, now)}"
    next_word = "today" if next_day == today else "tomorrow"
    return t(
        "digest-setting-at",
        time=when,
        default="yes" if is_default else "no",
        next=t(f"digest-next-{next_word}"),
    )
