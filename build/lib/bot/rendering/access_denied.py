"""The one short sentence for a refusal of the access policy (bot/services/access.py).

Takes plain values (the refusal's reason, action and role as their string values), so
rendering does not depend on the services.
"""

from __future__ import annotations

from bot.i18n import Translate


def denied_text(t: Translate, *, reason: str, action: str, role: str | None, user_id: int) -> str:
    """No account: the stranger's answer with their id; a role that never may: which role
    and what it may not do; a consultation that is not theirs (or is gone): not found."""
    if reason == "no_access":
        return t("access-no-access", user_id=str(user_id))
    if reason == "role":
        return t(
            "access-denied-role",
            role=t(f"access-role-{role or 'none'}"),
            action=t(f"access-action-{action}"),
        )
    return t("list-not-found")
