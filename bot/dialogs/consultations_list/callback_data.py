"""Typed buttons of the lists and of the consultation card opened from them.

Only ids and enums travel (Telegram allows 64 bytes): the list position (filter, sort,
direction, page) rides along so "Back" returns to the same page. ``v`` is the layout
version: a button from an older bot version fails the filter and gets a short alert.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

VERSION = 1


class ListFilter(StrEnum):
    ACTIVE = "act"
    SCHEDULED = "sch"
    FINISHED = "fin"
    ALL = "all"
    MINE = "mine"  # coordinators: the consultations they started
    FIND = "find"  # the results of the last /find


class SortKey(StrEnum):
    CREATED = "c"
    STATUS = "s"


class ConsAction(StrEnum):
    REFRESH = "r"
    TERMINATE = "t"  # asks for confirmation
    TERMINATE_YES = "ty"
    RESCHEDULE = "rs"  # asks for confirmation (it terminates first)
    RESCHEDULE_YES = "ry"
    CONFIRM_NO = "n"
    REPEAT = "rp"
    CANT_TAKE = "ct"


class ListPosition(CallbackData, prefix="lst"):
    """Back to the list at this position: ``lst:1:act:c:0:2``."""

    v: int = VERSION
    f: ListFilter = ListFilter.ACTIVE
    o: SortKey = SortKey.CREATED
    a: bool = False  # ascending
    p: int = 0  # page, 0-based


class ConsCallback(CallbackData, prefix="cons"):
    """A card button: ``cons:1:t:42:act:c:0:2`` (local consultation id 42)."""

    v: int = VERSION
    act: ConsAction
    cid: int
    f: ListFilter = ListFilter.ACTIVE
    o: SortKey = SortKey.CREATED
    a: bool = False
    p: int = 0

    def position(self) -> ListPosition:
        return ListPosition(f=self.f, o=self.o, a=self.a, p=self.p)

    @classmethod
    def at(cls, act: ConsAction, cid: int, pos: ListPosition) -> ConsCallback:
        return cls(act=act, cid=cid, f=pos.f, o=pos.o, a=pos.a, p=pos.p)
