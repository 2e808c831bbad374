from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class ConsultationsListSG(StatesGroup):
    main = State()  # one window: a page of consultations, filters, sort, pager
