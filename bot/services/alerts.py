"""Admin alerts through the outbox, once per incident.

An alert is a plain outbox row per admin whose dedupe key names the kind and the incident:
``alert:<kind>:<incident>:to:<chat>``. Raising the same incident again (another replica, the
next job tick, a restart) finds the key taken and queues nothing, so admins hear of an
incident once; a new incident (a new refresh token that fails, the next day's 402) has a
new key.

Recipients: chosen by the access policy (``RECEIVE_ALERTS``, bot/services/recipients.py):
the ids in ``ADMIN_IDS`` but those who blocked the bot (a stored role=admin row outside it
is no admin), each in their own language and time zone. Alerts never carry tokens or
patient data.

Routers, dialogs and jobs import these from here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import I18n
from bot.rendering.time import format_local
from bot.services.recipients import alert_recipients
from bot.settings import Settings
from storage.enums import Audience
from storage.repositories import OutboxRepository

log = logging.getLogger(__name__)

_MAX_INCIDENT_KEY = 80


class AlertKind(StrEnum):
    REFRESH_FAILED = "refresh_failed"  # the partner token cannot be renewed any more
    INSUFFICIENT_FUNDS = "insufficient_funds"  # the partner API answered 402


TEXT_KEYS: dict[AlertKind, str] = {
    AlertKind.REFRESH_FAILED: "ops-alert-refresh-failed",
    AlertKind.INSUFFICIENT_FUNDS: "ops-alert-insufficient-funds",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def incident_token(value: str) -> str:
    """A short, non-reversible incident key for values that must not be stored as such
    (a refresh token): the first 16 hex digits of its sha256."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def dedupe_key(kind: AlertKind, incident_key: str, chat_id: int) -> str:
    if len(incident_key) > _MAX_INCIDENT_KEY:
        incident_key = incident_token(incident_key)
    return f"alert:{kind.value}:{incident_key}:to:{chat_id}"


async def alert_admins(
    session: AsyncSession,
    settings: Settings,
    kind: AlertKind | str,
    incident_key: str,
    t_args: Mapping[str, Any] | None = None,
    *,
    i18n: I18n | None = None,
    now: datetime | None = None,
) -> int:
    """Queue the alert for every admin unless this incident was already raised.

    ``t_args`` go to the Fluent message; a ``datetime`` value is shown in each admin's
    zone, ``None`` as a dash. Runs in the caller's transaction (commit it, then wake the
    outbox); returns the number of rows queued (0 for a repeated incident).
    """
    kind = AlertKind(kind)
    i18n = i18n or I18n()
    now = now or _utcnow()
    admins = await alert_recipients(
        session, admin_ids=settings.admin_ids, default_timezone=settings.default_timezone
    )
    outbox = OutboxRepository(session)
    queued = 0
    for admin in admins:
        chat_id = admin.telegram_id
        t = i18n.translator(admin.lang)
        args: dict[str, Any] = {}
        for name, value in (t_args or {}).items():
            if isinstance(value, datetime):
                value = format_local(value, admin.tz, admin.lang, now=now, with_date=True)
            elif value is None:
                value = "—"
            args[name] = value
        if await outbox.enqueue(
            chat_id,
            t(TEXT_KEYS[kind], **args),
            dedupe_key=dedupe_key(kind, incident_key, chat_id),
            audience=Audience.ADMIN,
            now=now,
        ):
            queued += 1
    log.warning(
        "admin_alert kind=%s incident=%s admins=%d queued=%d",
        kind.value,
        incident_key if len(incident_key) <= _MAX_INCIDENT_KEY else incident_token(incident_key),
        len(admins),
        queued,
    )
    return queued


def insufficient_funds_incident(now: datetime | None = None) -> str:
    """The 402 incident key: the UTC day. The API gives no signal when the account is
    topped up, so "once per incident" is "at most once a day while it lasts"."""
    return (now or _utcnow()).astimezone(UTC).strftime("%Y-%m-%d")


async def alert_insufficient_funds(
    session: AsyncSession,
    settings: Settings,
    *,
    i18n: I18n | None = None,
    now: datetime | None = None,
) -> int:
    """What the wizard calls on a 402 from start-callback (in its update's transaction)."""
    return await alert_admins(
        session,
        settings,
        AlertKind.INSUFFICIENT_FUNDS,
        insufficient_funds_incident(now),
        {},
        i18n=i18n,
        now=now,
    )
