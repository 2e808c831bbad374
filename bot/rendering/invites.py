"""The /invites screen: the open invites, one line each — role, doctor, who created it and
until when. Never the code: only its hash is stored, and that is not shown either."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.rendering.access import Page, Translate, role_name
from bot.rendering.time import format_local

INVITES_PAGE_SIZE = 8


class OpenInviteLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def doctor_id(self) -> int | None: ...
    @property
    def doctor_name(self) -> str | None: ...
    @property
    def created_by(self) -> int: ...
    @property
    def creator_name(self) -> str | None: ...
    @property
    def expires_at(self) -> datetime: ...


def invite_summary(t: Translate, invite: OpenInviteLike) -> str:
    """"coordinator", or "doctor 101 — Name" (escaped, for HTML messages)."""
    role = role_name(t, str(invite.role))
    if invite.doctor_id is None:
        return role
    name = f" — {html.escape(invite.doctor_name)}" if invite.doctor_name else ""
    return f"{role} {invite.doctor_id}{name}"


def invite_line(t: Translate, invite: OpenInviteLike, tz: ZoneInfo, lang: str) -> str:
    creator = html.escape(invite.creator_name) if invite.creator_name else str(invite.created_by)
    return t(
        "access-invites-line",
        invite_id=invite.id,
        invite=invite_summary(t, invite),
        creator=creator,
        until=format_local(invite.expires_at, tz, lang, with_date=True),
    )


def invites_text(
    t: Translate,
    rows: Sequence[OpenInviteLike],
    page: Page,
    total: int,
    tz: ZoneInfo,
    lang: str,
) -> str:
    if not rows:
        return t("access-invites-empty")
    title = t("access-invites-title", total=total, page=page.number + 1, pages=page.total_pages)
    return "\n".join([title, *(invite_line(t, invite, tz, lang) for invite in rows)])


def revoke_question(t: Translate, invite: OpenInviteLike, tz: ZoneInfo, lang: str) -> str:
    return t(
        "access-invites-revoke-ask",
        invite_id=invite.id,
        invite=invite_summary(t, invite),
        until=format_local(invite.expires_at, tz, lang, with_date=True),
    )
