"""Every typed callback data of the bot, in one module. Only ids and enums travel (Telegram
allows 64 bytes), never names: what a button carries is checked again when it is pressed.

The lists' buttons carry the list position (filter, sort, direction, page) so "Back"
returns to the same page; ``v`` is their layout version: a button from an older bot
version fails the filter and gets a short alert.
"""

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


# --- the lists and the card opened from them (bot/dialogs/consultations_list)

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


# --- the status messages' buttons (bot/notifications)


class ConclusionCallback(CallbackData, prefix="concl"):
    """ "Conclusion ready" → fetch the consultation and show the doctor's report."""

    cid: int  # local consultation id


class StartAgainCallback(CallbackData, prefix="again"):
    """ "Start again" on a consultation that did not take place → prefilled wizard."""

    cid: int


# --- the access, language and time flows (bot/routers/start.py, admin_*.py, preferences.py).
# Prefixes all begin with "a": atz time zone city, alg language, ant notification mode,
# ainv invite role, aus users list/card, adr doctor directory, adg the morning digest's time.


class TzCity(CallbackData, prefix="atz"):
    city: str  # City.key


class LangPick(CallbackData, prefix="alg"):
    lang: str  # "ru" | "en"


class NotifyPick(CallbackData, prefix="ant"):
    mode: str  # NotifyMode value


class DigestPick(CallbackData, prefix="adg"):
    """/settings → the morning digest: a time ("0900"), "off", or "other" (type one)."""

    at: str


class InvitePick(CallbackData, prefix="ainv"):
    role: str  # "coordinator" | "doctor"
    doctor_id: int = 0  # 0 = ask for a typed id


class UsersAction(StrEnum):
    PAGE = "p"
    OPEN = "o"
    TO_COORDINATOR = "rc"
    TO_DOCTOR = "rd"
    REVOKE = "rv"
    REVOKE_OK = "ry"
    RESTORE = "rs"


class UsersCb(CallbackData, prefix="aus"):
    action: UsersAction
    user_id: int = 0  # storage User primary key
    page: int = 0
    doctor_id: int = 0  # for TO_DOCTOR: 0 = choose one first


class DoctorsAction(StrEnum):
    PAGE = "p"
    OPEN = "o"
    ADD = "a"
    SYNC = "s"
    RENAME = "rn"
    REMOVE = "rm"
    REMOVE_OK = "ry"
    CANCEL = "c"


class DoctorsCb(CallbackData, prefix="adr"):
    action: DoctorsAction
    doctor_id: int = 0
    page: int = 0


class InvitesAction(StrEnum):
    PAGE = "p"
    REVOKE = "r"  # ask
    REVOKE_OK = "y"


class InvitesCb(CallbackData, prefix="aiv"):
    """/invites: a page of open invites (aiv), a Revoke and its confirmation."""

    action: InvitesAction
    invite_id: int = 0
    page: int = 0


# --- /report (bot/routers/report.py)


class ReportAction(StrEnum):
    PRESET = "p"  # arg: bot.reports.period.Preset value
    DATES = "t"  # ask for two typed dates
    DETAILS = "d"  # arg: Period.key(); the CSV again, with patient names and phones


class ReportCb(CallbackData, prefix="rep"):
    """``rep:p:lm`` (last month), ``rep:t:``, ``rep:d:20260501-20260531``."""

    a: ReportAction
    arg: str = ""
