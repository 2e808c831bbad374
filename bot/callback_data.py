"""Typed callback data shared between flows. Only ids and enums travel, never names."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CardAction(StrEnum):
    """The buttons of a card drawn outside a list (bot/rendering/card.py maps them)."""

    REFRESH = "refresh"
    TERMINATE = "terminate"  # asks for confirmation
    TERMINATE_YES = "terminate_yes"
    RESCHEDULE = "reschedule"  # asks for confirmation (it terminates first)
    RESCHEDULE_YES = "reschedule_yes"
    CONFIRM_NO = "no"
    REPEAT = "repeat"
    CANT_TAKE = "cant_take"


class CardCallback(CallbackData, prefix="card"):
    """A consultation card's buttons: ``card:refresh:42`` / ``card:terminate:42`` …"""

    action: CardAction
    consultation_id: int  # local id (consultations.id)
