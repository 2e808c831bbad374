"""Inline keyboards of the access, language and time flows (their callback data is in
bot/callback_data.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callback_data import (
    DoctorsAction,
    DoctorsCb,
    InvitePick,
    InvitesAction,
    InvitesCb,
    LangPick,
    NotifyPick,
    TzCity,
    UsersAction,
    UsersCb,
)
from bot.rendering.access import (
    CITIES,
    DoctorLike,
    Page,
    Translate,
    UserLike,
    doctor_button_label,
    user_button_label,
)

Paged = type[UsersCb] | type[DoctorsCb] | type[InvitesCb]


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


def _buttons(
    buttons: Sequence[tuple[str, CallbackData]], sizes: Sequence[int] = (1,)
) -> InlineKeyboardMarkup:
    """(text, callback data) pairs laid out in rows of ``sizes`` (one per row by default)."""
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    builder.adjust(*sizes)
    return builder.as_markup()


def _paged_list(
    items: Sequence[tuple[str, CallbackData]],
    page: Page,
    make: Paged,
    *extra_rows: list[InlineKeyboardButton],
) -> InlineKeyboardMarkup:
    """One item a row, the pager row (when there is more than one page), then ``extra_rows``."""
    keyboard = [
        [InlineKeyboardButton(text=text, callback_data=data.pack())] for text, data in items
    ]
    pager = _pager_row(page, make)
    if pager:
        keyboard.append(pager)
    keyboard.extend(extra_rows)
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def invite_keyboard(t: Translate, doctors: Sequence[DoctorLike]) -> InlineKeyboardMarkup:
    return _buttons(
        [
            (t("access-invite-coordinator-button"), InvitePick(role="coordinator")),
            *(
                (
                    t("access-invite-doctor-named-button", label=doctor_button_label(doctor)),
                    InvitePick(role="doctor", doctor_id=doctor.doctor_id),
                )
                for doctor in doctors
            ),
            (t("access-invite-doctor-typed-button"), InvitePick(role="doctor", doctor_id=0)),
        ]
    )


def _pager_row(page: Page, make: Paged) -> list[InlineKeyboardButton]:
    steps = (
        ("◀", page.number - 1, page.has_prev),
        (f"{page.number + 1}/{page.total_pages}", page.number, page.total_pages > 1),
        ("▶", page.number + 1, page.has_next),
    )
    return [
        InlineKeyboardButton(text=text, callback_data=make(action="p", page=number).pack())
        for text, number, shown in steps
        if shown
    ]


def users_keyboard(
    t: Translate, rows: Sequence[tuple[int, UserLike, str | None]], page: Page
) -> InlineKeyboardMarkup:
    """``rows``: (storage primary key, user, effective role)."""
    items = [
        (
            user_button_label(t, user, role),
            UsersCb(action=UsersAction.OPEN, user_id=pk, page=page.number),
        )
        for pk, user, role in rows
    ]
    return _paged_list(items, page, UsersCb)


def user_card_keyboard(
    t: Translate,
    pk: int,
    role: str | None,
    *,
    is_active: bool,
    is_config_admin: bool,
    page: int,
) -> InlineKeyboardMarkup:
    def act(action: UsersAction) -> UsersCb:
        return UsersCb(action=action, user_id=pk, page=page)

    buttons: list[tuple[str, CallbackData]] = []
    if not is_config_admin:
        if role != "coordinator":
            buttons.append((t("access-user-make-coordinator"), act(UsersAction.TO_COORDINATOR)))
        buttons.append((t("access-user-make-doctor"), act(UsersAction.TO_DOCTOR)))
        if is_active:
            buttons.append((t("access-user-revoke"), act(UsersAction.REVOKE)))
    buttons.append((t("access-back"), UsersCb(action=UsersAction.PAGE, page=page)))
    return _buttons(buttons)


def revoke_confirm_keyboard(t: Translate, pk: int, page: int) -> InlineKeyboardMarkup:
    return _buttons(
        [
            (
                t("access-user-revoke-confirm"),
                UsersCb(action=UsersAction.REVOKE_OK, user_id=pk, page=page),
            ),
            (t("access-back"), UsersCb(action=UsersAction.OPEN, user_id=pk, page=page)),
        ]
    )


def doctor_pick_keyboard(
    t: Translate, doctors: Sequence[DoctorLike], pk: int, page: int
) -> InlineKeyboardMarkup:
    """Pick the doctor id for a user being made a doctor (or type one)."""
    return _buttons(
        [
            *(
                (
                    doctor_button_label(doctor),
                    UsersCb(
                        action=UsersAction.TO_DOCTOR,
                        user_id=pk,
                        page=page,
                        doctor_id=doctor.doctor_id,
                    ),
                )
                for doctor in doctors
            ),
            (t("access-back"), UsersCb(action=UsersAction.OPEN, user_id=pk, page=page)),
        ]
    )


def doctors_keyboard(
    t: Translate, rows: Sequence[DoctorLike], page: Page, *, can_sync: bool = True
) -> InlineKeyboardMarkup:
    items = [
        (
            doctor_button_label(doctor),
            DoctorsCb(action=DoctorsAction.OPEN, doctor_id=doctor.doctor_id, page=page.number),
        )
        for doctor in rows
    ]
    actions = [(t("access-doctors-add"), DoctorsAction.ADD)]
    if can_sync:
        actions.append((t("access-doctors-sync"), DoctorsAction.SYNC))
    action_row = [
        InlineKeyboardButton(
            text=text, callback_data=DoctorsCb(action=action, page=page.number).pack()
        )
        for text, action in actions
    ]
    return _paged_list(items, page, DoctorsCb, action_row)


def doctor_card_keyboard(t: Translate, doctor_id: int, page: int) -> InlineKeyboardMarkup:
    return _buttons(
        [
            (
                t("access-doctor-rename"),
                DoctorsCb(action=DoctorsAction.RENAME, doctor_id=doctor_id, page=page),
            ),
            (
                t("access-doctor-remove"),
                DoctorsCb(action=DoctorsAction.REMOVE, doctor_id=doctor_id, page=page),
            ),
            (t("access-back"), DoctorsCb(action=DoctorsAction.PAGE, page=page)),
        ],
        sizes=(2, 1),
    )


def doctor_remove_keyboard(t: Translate, doctor_id: int, page: int) -> InlineKeyboardMarkup:
    return _buttons(
        [
            (
                t("access-doctor-remove-confirm"),
                DoctorsCb(action=DoctorsAction.REMOVE_OK, doctor_id=doctor_id, page=page),
            ),
            (
                t("access-back"),
                DoctorsCb(action=DoctorsAction.OPEN, doctor_id=doctor_id, page=page),
            ),
        ]
    )


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


def invites_keyboard(t: Translate, invite_ids: Sequence[int], page: Page) -> InlineKeyboardMarkup:
    """A Revoke button for each open invite of the page, then the pager."""
    items = [
        (
            t("access-invites-revoke-button", invite_id=invite_id),
            InvitesCb(action=InvitesAction.REVOKE, invite_id=invite_id, page=page.number),
        )
        for invite_id in invite_ids
    ]
    return _paged_list(items, page, InvitesCb)


def invite_revoke_keyboard(t: Translate, invite_id: int, page: int) -> InlineKeyboardMarkup:
    return _buttons(
        [
            (
                t("access-invites-revoke-yes"),
                InvitesCb(action=InvitesAction.REVOKE_OK, invite_id=invite_id, page=page),
            ),
            (t("access-back"), InvitesCb(action=InvitesAction.PAGE, page=page)),
        ],
        (2,),
    )
