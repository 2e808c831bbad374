"""The actor of an update, as the middleware read it from the database for this update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.services.access import Actor

ACTOR_KEY = "actor"


def actor_of(data: Mapping[str, Any]) -> Actor:
    """The update's actor (set by bot/middlewares/access.py for every update with a user).

    An update without one (a background dialog event) is nobody: every action refused.
    """
    actor = data.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        return actor
    user = data.get("event_from_user")
    return Actor(getattr(user, "id", 0), None)
