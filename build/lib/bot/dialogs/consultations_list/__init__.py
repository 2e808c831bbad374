"""/list and /find (issue 7): the list window, its data source and the card it opens."""

from bot.dialogs.consultations_list.dialog import build_list_dialog
from bot.states import ConsultationsListSG

__all__ = ["ConsultationsListSG", "build_list_dialog"]
