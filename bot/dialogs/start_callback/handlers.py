"""Step handlers: parse input → store it in dialog_data → go to the next step.

A bad answer sets a one-shot error shown above the same step's question (the step is asked
again); nothing else changes.
"""

from __future__ import annotations

import logging
import re
from contextlib import suppress
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.api.entities import ChatEvent
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput
from aiogram_dialog.widgets.kbd import Button, ManagedCalendar, ManagedTimeSelect, Select
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.client import MAX_ATTACHMENT_BYTES, PartnerApiClient
from api_client.errors import NotFound, PartnerApiError
from api_client.models import Doctor
from bot.dialogs.answered import answer_early
from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.getters import doctor_unavailable, escape, now_of
from bot.i18n import Translator
from bot.input_parsing.duration import check_duration
from bot.input_parsing.errors import InputError
from bot.input_parsing.patient_name import parse_patient_name
from bot.input_parsing.phone import parse_phone
from bot.input_parsing.start_time import (
    MAX_DAYS_AHEAD,
    QuickStart,
    check_start_time,
    local_to_utc,
    parse_start_time,
    quick_start,
)
from bot.rendering.card import CardView, CardViewer, render_card, short_id
from bot.services.access import Action, authorize
from bot.services.consultation_start import open_by_phone
from bot.services.context import actor_of
from bot.settings import Settings
from bot.states import StartCallbackSG as SG
from storage.models import Consultation
from storage.repositories.consultations import ConsultationRepository

log = logging.getLogger(__name__)

_MB = 1024 * 1024
_MAX_ALBUMS_REMEMBERED = 10


# ---------------------------------------------------------------------------- helpers


def _t(manager: DialogManager) -> Translator:
    return manager.middleware_data["t"]  # type: ignore[no-any-return]


def _tz(manager: DialogManager) -> ZoneInfo:
    return manager.middleware_data["tz"]  # type: ignore[no-any-return]


def set_error(manager: DialogManager, key: str, **args: Any) -> None:
    safe = {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}
    manager.dialog_data[S.ERROR] = _t(manager)(key, **safe)


def set_input_error(manager: DialogManager, error: ValueError) -> None:
    if isinstance(error, InputError):
        set_error(manager, error.reason, **error.args_)
    else:  # a widget's own ValueError: say what the step expects in general
        set_error(manager, "wizard-unexpected-input")


async def go_next(manager: DialogManager) -> None:
    await manager.switch_to(S.next_state(manager.current_context().state, manager.dialog_data))


def album_seen_before(manager: DialogManager, message: Message) -> bool:
    """One answer per album: later parts of an already answered album are dropped silently.

    Telegram delivers an album as separate messages sharing ``media_group_id``; without this
    every photo would get its own answer (or land as input on the next steps).
    """
    group = message.media_group_id
    if not group:
        return False
    seen: list[str] = manager.dialog_data.setdefault(S.ALBUMS, [])
    if group in seen:
        manager.show_mode = ShowMode.NO_UPDATE
        return True
    seen.append(group)
    del seen[:-_MAX_ALBUMS_REMEMBERED]
    set_error(manager, "wizard-attachment-album")
    return False


def format_money(amount: Decimal | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    text = format(amount.normalize(), "f") if amount == amount.to_integral() else f"{amount:.2f}"
    return f"{text} {currency}" if currency else text


def doctor_cost(doctor: Doctor) -> str | None:
    ctype = doctor.callback_type
    if ctype is None or ctype.cost is None:
        return None
    currency = ctype.cost.currency.id if ctype.cost.currency else None
    return format_money(ctype.cost.amount, currency)


# ---------------------------------------------------------------------------- start / common


async def on_dialog_start(start_data: Any, manager: DialogManager) -> None:
    """Refused (AccessDenied, answered by the errors router) unless the actor may start
    now — whichever button opened it, however old; then the prefill from ``start_data``
    (see the package docstring for the keys)."""
    authorize(actor_of(manager.middleware_data), Action.START)
    if not isinstance(start_data, dict):
        return
    data = manager.dialog_data
    doctor_id = start_data.get("doctor_id")
    if isinstance(doctor_id, int) and doctor_id > 0:
        data[S.DOCTOR_ID] = doctor_id
        if isinstance(start_data.get("doctor_name"), str):
            data[S.DOCTOR_NAME] = start_data["doctor_name"]
    phone = start_data.get("phone")
    if isinstance(phone, str):
        try:
            parsed = parse_phone(phone)
        except InputError:
            pass
        else:
            data[S.PHONE] = parsed.e164
            data[S.PHONE_DISPLAY] = parsed.display
    if isinstance(start_data.get("patient_name"), str):
        with suppress(InputError):
            data[S.NAME] = parse_patient_name(start_data["patient_name"])
    duration = start_data.get("duration_min")
    if isinstance(duration, int):
        with suppress(InputError):
            data[S.DURATION] = check_duration(duration)


async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    target = S.previous_state(manager.current_context().state, manager.dialog_data)
    if target is None:
        await on_cancel(callback, button, manager)
        return
    await manager.switch_to(target)


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    t = _t(manager)
    await manager.done()
    if callback.message is not None:
        await callback.bot.send_message(callback.message.chat.id, t("wizard-cancelled"))  # type: ignore[union-attr]


async def on_unexpected(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    """Anything a step cannot use (a sticker on the name step, an album on the phone step)."""
    if album_seen_before(manager, message):
        return
    if not message.media_group_id:
        set_error(manager, "wizard-unexpected-input")


# ---------------------------------------------------------------------------- doctor


async def _choose_doctor(manager: DialogManager, doctor_id: int, *, typed: bool) -> bool:
    """Look the doctor up (name, cost, availability); False when the API says no such one."""
    data = manager.dialog_data
    api: PartnerApiClient | None = manager.middleware_data.get("api")
    known = next((d for d in data.get(S.DOCTORS, []) if d["id"] == doctor_id), None)
    name = known["name"] if known else None
    unavailable = bool(known and known["unavailable"])
    cost: str | None = None
    checked = False
    if api is not None:
        try:
            doctor = await api.get_doctor(doctor_id)
        except NotFound:
            if typed and known is None:
                set_error(manager, "wizard-doctor-error-not-found", doctor_id=str(doctor_id))
                return False
        except PartnerApiError as exc:
            # RouteUnavailable (no doctor routes) or an outage: the start call will name
            # the doctor, or refuse an unknown id with 404 → back to this step.
            log.info("wizard doctor lookup skipped doctor_id=%s: %s", doctor_id, type(exc).__name__)
        else:
            checked = True
            name = doctor.full_name or name
            cost = doctor_cost(doctor)
            unavailable = doctor_unavailable(doctor)
    data[S.DOCTOR_ID] = doctor_id
    data[S.DOCTOR_NAME] = name
    data[S.DOCTOR_COST] = cost
    data[S.DOCTOR_UNAVAILABLE] = unavailable
    if typed and not checked and known is None:
        set_error(manager, "wizard-doctor-unchecked", doctor_id=str(doctor_id))
    return True


async def on_doctor_selected(
    callback: CallbackQuery, widget: Select[int], manager: DialogManager, item_id: int
) -> None:
    await answer_early(callback, manager.middleware_data)  # before the doctor lookup
    if await _choose_doctor(manager, int(item_id), typed=False):
        await go_next(manager)


_DOCTOR_ID = re.compile(r"^(?:id|№|#|n)?\s*(\d{1,9})$", re.IGNORECASE)


async def on_doctor_typed(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    match = _DOCTOR_ID.match((message.text or "").strip())
    if not match or int(match.group(1)) <= 0:
        set_error(manager, "wizard-doctor-error-not-a-number")
        return
    if await _choose_doctor(manager, int(match.group(1)), typed=True):
        await go_next(manager)


# ---------------------------------------------------------------------------- phone


async def on_phone_input(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    if album_seen_before(manager, message):
        return
    if message.contact is not None:
        raw = message.contact.phone_number
    elif message.text is not None:
        raw = message.text
    else:
        set_error(manager, "wizard-phone-error-empty")
        return
    settings: Settings | None = manager.middleware_data.get("settings")
    region = settings.default_phone_region if settings is not None else "RU"
    try:
        phone = parse_phone(raw, region)
    except InputError as exc:
        set_input_error(manager, exc)
        return
    session: AsyncSession = manager.middleware_data["session"]
    data = manager.dialog_data
    data.pop(S.PHONE_WARNING, None)
    warning = await phone_warning(session, phone.e164, phone.display, data)
    if warning is not None:
        # Held in the warning until "Continue anyway": "Change phone" keeps the phone the
        # wizard had (an edit that is abandoned loses nothing).
        data[S.PHONE_WARNING] = warning
        await manager.switch_to(SG.phone_warning)
        return
    data[S.PHONE] = phone.e164
    data[S.PHONE_DISPLAY] = phone.display
    await go_next(manager)


async def phone_warning(
    session: AsyncSession,
    phone_e164: str,
    display: str,
    data: dict[str, Any],
    *,
    exclude_id: int | None = None,
) -> dict[str, Any] | None:
    """The warning for a phone that has open consultations (starting, active, unknown) the
    coordinator has not gone past yet in this wizard; None when there is nothing to say."""
    open_ones = await open_by_phone(session, phone_e164, exclude_id=exclude_id)
    acknowledged = set(data.get(S.PHONE_ACK) or ())
    if not open_ones or {c.id for c in open_ones} <= acknowledged:
        return None
    return warning_of(open_ones, phone_e164, display)


def warning_of(open_ones: list[Consultation], phone_e164: str, display: str) -> dict[str, Any]:
    """The warning step's data (JSON-safe) about the newest open consultation."""
    first = open_ones[0]
    return {
        "phone": phone_e164,
        "display": display,
        "ids": [c.id for c in open_ones],
        "consultation_id": first.id,
        "state": str(getattr(first.state, "value", first.state)),
        "short_id": short_id(CardView.of(first)),
        "doctor": first.doctor_name,
        "doctor_id": first.doctor_id,
        "begin_at": first.begin_at.isoformat() if first.begin_at else None,
    }


async def on_phone_continue(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    data = manager.dialog_data
    warning = data.pop(S.PHONE_WARNING, None) or {}
    if warning.get("phone"):
        data[S.PHONE] = warning["phone"]
        data[S.PHONE_DISPLAY] = warning["display"]
    acknowledged = set(data.get(S.PHONE_ACK) or ())
    data[S.PHONE_ACK] = sorted(acknowledged | set(warning.get("ids") or ()))
    await go_next(manager)


async def on_phone_change(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    # The warned phone was never taken; the one the wizard had (if any) stays.
    manager.dialog_data.pop(S.PHONE_WARNING, None)
    await manager.switch_to(SG.phone)


async def on_phone_open_card(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    """Show the existing consultation's card as a new message (with the card's own buttons),
    and the warning again below it: the wizard's message is not turned into the card."""
    await answer_early(callback, manager.middleware_data)
    warning = manager.dialog_data.get(S.PHONE_WARNING) or {}
    session: AsyncSession = manager.middleware_data["session"]
    record = await ConsultationRepository(session).get(int(warning.get("consultation_id") or 0))
    if record is None or callback.message is None:
        return
    md = manager.middleware_data
    viewer = CardViewer.of(md.get("user"), private=True)
    text, markup = render_card(CardView.of(record), md["t"], md["tz"], viewer)
    await callback.bot.send_message(  # type: ignore[union-attr]
        callback.message.chat.id, text, reply_markup=markup
    )
    manager.show_mode = ShowMode.SEND


# ---------------------------------------------------------------------------- name


async def on_name_ok(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.dialog_data[S.NAME] = value
    await go_next(manager)


async def on_input_error(
    message: Message, widget: ManagedTextInput[Any], manager: DialogManager, error: ValueError
) -> None:
    set_input_error(manager, error)


# ---------------------------------------------------------------------------- start time


def _set_begin(manager: DialogManager, begin: datetime | None) -> None:
    manager.dialog_data[S.BEGIN_AT] = begin.isoformat() if begin is not None else None


async def on_quick_time(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    option = QuickStart((button.widget_id or "").removeprefix("t_"))
    _set_begin(manager, quick_start(option, _tz(manager), now_of(manager)))
    await go_next(manager)


async def on_now_nothing_else(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    """The short path: start now and skip the duration and attachment steps → the summary.

    Whatever is already set (a duration from Repeat, an attachment chosen before an Edit)
    stays: the button skips steps, it does not clear them."""
    manager.dialog_data[S.BEGIN_AT] = None
    await manager.switch_to(S.first_missing(manager.dialog_data) or SG.summary)


async def on_time_typed(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    try:
        begin = parse_start_time(message.text, _tz(manager), now_of(manager))
    except InputError as exc:
        set_input_error(manager, exc)
        return
    _set_begin(manager, begin)
    await go_next(manager)


def calendar_bounds(manager: DialogManager) -> tuple[date, date]:
    today = now_of(manager).astimezone(_tz(manager)).date()
    return today, today + timedelta(days=MAX_DAYS_AHEAD)


async def on_date_picked(
    event: ChatEvent, widget: ManagedCalendar, manager: DialogManager, picked: date
) -> None:
    first, last = calendar_bounds(manager)
    if not first <= picked <= last:
        set_error(
            manager,
            "wizard-time-error-past" if picked < first else "wizard-time-error-too-far",
            max_days=MAX_DAYS_AHEAD,
        )
        return
    manager.dialog_data[S.PICKED_DATE] = picked.isoformat()
    await manager.switch_to(SG.start_clock)


async def on_clock_changed(
    event: ChatEvent, counter: ManagedTimeSelect, dialog_manager: DialogManager, value: time | None
) -> None:
    # Parameter names as in aiogram-dialog's OnValueChanged (its arguments are not
    # positional-only, so a typed handler must use the same names).
    if value is None:
        return  # only the hour (or only the minutes) so far
    picked = dialog_manager.dialog_data.get(S.PICKED_DATE)
    # The widget keeps its value between visits; start clean the next time.
    counter.widget.set_widget_data(dialog_manager, [None, None])
    if not picked:
        await dialog_manager.switch_to(SG.start_date)
        return
    tz = _tz(dialog_manager)
    try:
        begin = local_to_utc(datetime.combine(date.fromisoformat(picked), value), tz)
        begin = check_start_time(begin, now_of(dialog_manager))
    except InputError as exc:
        set_input_error(dialog_manager, exc)
        return
    _set_begin(dialog_manager, begin)
    await dialog_manager.switch_to(S.next_state(SG.start_time, dialog_manager.dialog_data))


# ---------------------------------------------------------------------------- duration


async def on_duration_quick(
    callback: CallbackQuery, widget: Select[int], manager: DialogManager, item_id: int
) -> None:
    manager.dialog_data[S.DURATION] = check_duration(int(item_id))
    await go_next(manager)


async def on_duration_ok(
    message: Message, widget: ManagedTextInput[int], manager: DialogManager, value: int
) -> None:
    manager.dialog_data[S.DURATION] = value
    await go_next(manager)


async def on_duration_skip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[S.DURATION] = None
    await go_next(manager)


# ---------------------------------------------------------------------------- attachment


async def on_attachment(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    if message.media_group_id:
        album_seen_before(manager, message)
        return
    t = _t(manager)
    if message.document is not None:
        doc = message.document
        file_id, size = doc.file_id, doc.file_size
        name = doc.file_name or "document"
        mime = doc.mime_type or "application/octet-stream"
    elif message.photo:
        photo = message.photo[-1]  # the largest size Telegram keeps
        file_id, size = photo.file_id, photo.file_size
        name = t("wizard-attachment-photo-name")
        mime = "image/jpeg"
    else:
        set_error(manager, "wizard-attachment-wrong-kind")
        return
    # Checked from Telegram's metadata, before anything is downloaded.
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        set_error(
            manager,
            "wizard-attachment-too-large",
            name=name,
            size_mb=f"{size / _MB:.1f}",
            limit_mb=MAX_ATTACHMENT_BYTES // _MB,
        )
        return
    manager.dialog_data[S.ATTACHMENT] = {
        "file_id": file_id,
        "name": name,
        "mime": mime,
        "size": size,
    }
    await go_next(manager)


async def on_attachment_other(
    message: Message, widget: MessageInput, manager: DialogManager
) -> None:
    if album_seen_before(manager, message):
        return
    set_error(manager, "wizard-attachment-wrong-kind")


async def on_attachment_skip(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    manager.dialog_data[S.ATTACHMENT] = None
    await go_next(manager)


# ---------------------------------------------------------------------------- summary / edit


async def on_edit_pick(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    target = S.state_by_name((button.widget_id or "").removeprefix("e_"))
    if target is None:
        return
    manager.dialog_data[S.EDITING] = True
    await manager.switch_to(target)


async def on_retry_doctor(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[S.EDITING] = True
    await manager.switch_to(SG.doctor)


async def on_retry_time(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[S.EDITING] = True
    await manager.switch_to(SG.start_time)
