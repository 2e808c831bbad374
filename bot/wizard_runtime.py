"""Joins the /start_callback wizard to the running bot (a component of bot/app.py)."""

from __future__ import annotations

from typing import Any

from bot.routers import start_callback


def configure(rt: Any) -> None:
    rt.extra_routers.append(start_callback.setup())
