"""Typed callback data and inline keyboards of the access, language and time flows.

Prefixes are short and unique across the bot (all begin with "a" for access):
  atz  – time zone city          alg – language           ant – notification mode
  ainv – invite role             aus – users list/card    adr – doctor directory
Payloads carry ids and enum values only, never names (Telegram's limit is 64 bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.rendering.access import (
    CITIES,
    DoctorLike,
    Page,
    Translate,
    UserLike,
    doctor_button_label,
    user_button_label,
)


class TzCity(CallbackData, prefix="atz"):
    city: str  # City.key


class LangPick(CallbackData, prefix="alg"):
    lang: str  # "ru" | "en"


class NotifyPick(CallbackData, prefix="ant"):
    mode: str  # NotifyMode value


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


def timezone_keyboard(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for city in CITIES:
        builder.button(text=city.name(lang), callback_data=TzCity(city=city.key))
    builder.adjust(3)
    return builder.as_markup()


def language_keyboard(current: str | None) -> InlineKeyboardMarkup:
    options = (("ru", "Русский"), ("en", "English"))
    row = [
        InlineKeyboardButton(
            text=("✓ " if code == current else "") + label,
            callback_data=LangPick(lang=code).pack(),
        )
        for code, label in options
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])


NOTIFY_MODES: tuple[str, ...] = ("essentials", "all", "muted")


def notify_keyboard(t: Translate, current: str) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=("✓ " if mode == current else "") + t(f"access-notify-{mode}-button"),
                callback_data=NotifyPick(mode=mode).pack(),
            )
        ]
        for mode in NOTIFY_MODES
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def invite_keyboard(t: Translate, doctors: Sequence[DoctorLike]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("access-invite-coordinator-button"),
        callback_data=InvitePick(role="coordinator"),
    )
    for doctor in doctors:
        builder.button(
            text=t("access-invite-doctor-named-button", label=doctor_button_label(doctor)),
            callback_data=InvitePick(role="doctor", doctor_id=doctor.doctor_id),
        )
    builder.button(
        text=t("access-invite-doctor-typed-button"),
        callback_data=InvitePick(role="doctor", doctor_id=0),
    )
    builder.adjust(1)
    return builder.as_markup()


def _pager_row(page: Page, make: type[UsersCb] | type[DoctorsCb]) -> list[InlineKeyboardButton]:
    row: list[InlineKeyboardButton] = []
    if page.has_prev:
        cb = make(action="p", page=page.number - 1)
        row.append(InlineKeyboardButton(text="◀", callback_data=cb.pack()))
    if page.total_pages > 1:
        cb = make(action="p", page=page.number)
        row.append(
            InlineKeyboardButton(
                text=f"{page.number + 1}/{page.total_pages}", callback_data=cb.pack()
            )
        )
    if page.has_next:
        cb = make(action="p", page=page.number + 1)
        row.append(InlineKeyboardButton(text="▶", callback_data=cb.pack()))
    return row


def users_keyboard(
    rows: Sequence[tuple[int, UserLike, str | None]], page: Page
) -> InlineKeyboardMarkup:
    """``rows``: (storage primary key, user, effective role)."""
    keyboard = [
        [
            InlineKeyboardButton(
                text=user_button_label(user, role),
                callback_data=UsersCb(action=UsersAction.OPEN, user_id=pk, page=page.number).pack(),
            )
        ]
        for pk, user, role in rows
    ]
    pager = _pager_row(page, UsersCb)
    if pager:
        keyboard.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def user_card_keyboard(
    t: Translate,
    pk: int,
    role: str | None,
    *,
    is_active: bool,
    is_config_admin: bool,
    page: int,
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if not is_config_admin:
        if role != "coordinator":
            builder.button(
                text=t("access-user-make-coordinator"),
                callback_data=UsersCb(action=UsersAction.TO_COORDINATOR, user_id=pk, page=page),
            )
        builder.button(
            text=t("access-user-make-doctor"),
            callback_data=UsersCb(action=UsersAction.TO_DOCTOR, user_id=pk, page=page),
        )
        if is_active:
            builder.button(
                text=t("access-user-revoke"),
                callback_data=UsersCb(action=UsersAction.REVOKE, user_id=pk, page=page),
            )
    builder.button(text=t("access-back"), callback_data=UsersCb(action=UsersAction.PAGE, page=page))
    builder.adjust(1)
    return builder.as_markup()


def revoke_confirm_keyboard(t: Translate, pk: int, page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("access-user-revoke-confirm"),
        callback_data=UsersCb(action=UsersAction.REVOKE_OK, user_id=pk, page=page),
    )
    builder.button(
        text=t("access-back"),
        callback_data=UsersCb(action=UsersAction.OPEN, user_id=pk, page=page),
    )
    builder.adjust(1)
    return builder.as_markup()


def doctor_pick_keyboard(
    t: Translate, doctors: Sequence[DoctorLike], pk: int, page: int
) -> InlineKeyboardMarkup:
    """Pick the doctor id for a user being made a doctor (or type one)."""
    builder = InlineKeyboardBuilder()
    for doctor in doctors:
        builder.button(
            text=doctor_button_label(doctor),
            callback_data=UsersCb(
                action=UsersAction.TO_DOCTOR, user_id=pk, page=page, doctor_id=doctor.doctor_id
            ),
        )
    builder.button(
        text=t("access-back"),
        callback_data=UsersCb(action=UsersAction.OPEN, user_id=pk, page=page),
    )
    builder.adjust(1)
    return builder.as_markup()


def doctors_keyboard(
    t: Translate, rows: Sequence[DoctorLike], page: Page, *, can_sync: bool = True
) -> InlineKeyboardMarkup:
    keyboard = [
        [
            InlineKeyboardButton(
                text=doctor_button_label(doctor),
                callback_data=DoctorsCb(
                    action=DoctorsAction.OPEN, doctor_id=doctor.doctor_id, page=page.number
                ).pack(),
            )
        ]
        for doctor in rows
    ]
    pager = _pager_row(page, DoctorsCb)
    if pager:
        keyboard.append(pager)
    actions = [
        InlineKeyboardButton(
            text=t("access-doctors-add"),
            callback_data=DoctorsCb(action=DoctorsAction.ADD, page=page.number).pack(),
        )
    ]
    if can_sync:
        actions.append(
            InlineKeyboardButton(
                text=t("access-doctors-sync"),
                callback_data=DoctorsCb(action=DoctorsAction.SYNC, page=page.number).pack(),
            )
        )
    keyboard.append(actions)
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def doctor_card_keyboard(t: Translate, doctor_id: int, page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("access-doctor-rename"),
        callback_data=DoctorsCb(action=DoctorsAction.RENAME, doctor_id=doctor_id, page=page),
    )
    builder.button(
        text=t("access-doctor-remove"),
        callback_data=DoctorsCb(action=DoctorsAction.REMOVE, doctor_id=doctor_id, page=page),
    )
    builder.button(
        text=t("access-back"), callback_data=DoctorsCb(action=DoctorsAction.PAGE, page=page)
    )
    builder.adjust(2, 1)
    return builder.as_markup()


def doctor_remove_keyboard(t: Translate, doctor_id: int, page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("access-doctor-remove-confirm"),
        callback_data=DoctorsCb(action=DoctorsAction.REMOVE_OK, doctor_id=doctor_id, page=page),
    )
    builder.button(
        text=t("access-back"),
        callback_data=DoctorsCb(action=DoctorsAction.OPEN, doctor_id=doctor_id, page=page),
    )
    builder.adjust(1)
    return builder.as_markup()


def cancel_keyboard(t: Translate, page: int = 0) -> InlineKeyboardMarkup:
    """Under a "type the …" prompt: the one way out besides /cancel."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("access-cancel"),
                    callback_data=DoctorsCb(action=DoctorsAction.CANCEL, page=page).pack(),
                )
            ]
        ]
    )
