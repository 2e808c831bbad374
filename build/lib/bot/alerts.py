"""Admin alerts, where routers, dialogs and jobs import them from.

The use case (who is told, once per incident, through the outbox) is bot/services/alerts.py.
"""

from bot.services.alerts import (
    TEXT_KEYS,
    AlertKind,
    alert_admins,
    alert_insufficient_funds,
    dedupe_key,
    incident_token,
    insufficient_funds_incident,
)

__all__ = [
    "TEXT_KEYS",
    "AlertKind",
    "alert_admins",
    "alert_insufficient_funds",
    "dedupe_key",
    "incident_token",
    "insufficient_funds_incident",
]
