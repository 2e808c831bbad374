"""Typed callback data shared between flows. Only ids and enums travel, never names."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CardAction(StrEnum):
    REFRESH = "refresh"
    TERMINATE = "terminate"


class CardCallback(CallbackData, prefix="card"):
    """A consultation card's buttons: ``card:refresh:42`` / ``card:terminate:42``."""

    action: CardAction
    consultation_id: int  # local id (consultations.id)
