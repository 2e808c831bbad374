"""Typed buttons of the status messages. Only local ids travel in them, never names."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ConclusionCallback(CallbackData, prefix="concl"):
    """ "Conclusion ready" → fetch the consultation and show the doctor's report."""

    cid: int  # local consultation id


class StartAgainCallback(CallbackData, prefix="again"):
    """ "Start again" on a consultation that did not take place → prefilled wizard."""

    cid: int
