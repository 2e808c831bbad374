"""Window getters: plain, already-escaped values for the texts (I18nText / Format)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape as _html_escape
from time import monotonic
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from aiogram_dialog import DialogManager
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.client import MAX_ATTACHMENT_BYTES, PartnerApiClient
from api_client.errors import PartnerApiError
from api_client.models import Doctor
from bot.dialogs.start_callback import state as S
from bot.i18n import Translator
from bot.input_parsing.duration import MAX_MINUTES, MIN_MINUTES, QUICK_MINUTES
from bot.rendering.time import format_local, zone_label
from storage.repositories.doctors import DoctorDirectoryRepository


def escape(text: str) -> str:
    # Text content only (never attributes): quotes stay readable in the raw HTML.
    return _html_escape(text, quote=False)


log = logging.getLogger(__name__)

DIRECTORY_LIMIT = 200
# The partner API's doctor list (used while the local directory is empty), kept this long
# per API client: every wizard opening asked for it, the slowest part of the first step.
# A doctor picked while the list is this fresh is taken as the list describes them (name,
# cost, availability: what a lookup of that one doctor would say); later, or a doctor not
# in it, is looked up at once. The start call is the partner's own word on availability.
API_LIST_TTL = 60.0


@dataclass(frozen=True, slots=True)
class ListedDoctor:
    """What the partner's doctor list said of one doctor."""

    name: str | None
    cost: str | None
    unavailable: bool


@dataclass(frozen=True, slots=True)
class _ApiList:
    expires: float  # monotonic
    buttons: list[dict[str, Any]]
    doctors: dict[int, ListedDoctor]


_api_lists: WeakKeyDictionary[PartnerApiClient, _ApiList] = WeakKeyDictionary()
DOCTORS_PER_PAGE = 6
LABEL_LIMIT = 60


def _doctor_button(
    doctor_id: int, name: str | None, specialty: str | None, unavailable: bool
) -> dict[str, Any]:
    """One entry of the doctor step's list (``label`` is what the button shows)."""
    text = name or f"#{doctor_id}"
    text = text if not specialty else f"{text} · {specialty}"
    if len(text) > LABEL_LIMIT:
        text = text[: LABEL_LIMIT - 1] + "…"
    return {
        "id": doctor_id,
        "label": f"⛔ {text}" if unavailable else text,
        "name": name,
        "unavailable": unavailable,
    }


def doctor_unavailable(doctor: Doctor) -> bool:
    ctype = doctor.callback_type
    return ctype is None or ctype.is_available is False or bool(ctype.is_disabled)


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


def listed_doctor(api: PartnerApiClient | None, doctor_id: int) -> ListedDoctor | None:
    """The doctor as the partner's list described them less than ``API_LIST_TTL`` ago;
    None when not listed that recently (look them up)."""
    listed = _api_lists.get(api) if api is not None else None
    if listed is None or monotonic() >= listed.expires:
        return None
    return listed.doctors.get(doctor_id)


async def load_doctor_buttons(
    session: AsyncSession, api: PartnerApiClient | None
) -> list[dict[str, Any]]:
    """The local directory; when it is empty, the API's doctor list (if offered)."""
    rows, _total = await DoctorDirectoryRepository(session).list_page(limit=DIRECTORY_LIMIT)
    buttons = [
        _doctor_button(
            row.doctor_id,
            row.display_name,
            (row.specialties or "").split(",")[0].strip() or None,
            row.callback_available is False,
        )
        for row in rows
    ]
    if buttons or api is None:
        return buttons
    cached = _api_lists.get(api)
    if cached is not None and monotonic() < cached.expires:
        return [dict(button) for button in cached.buttons]
    try:
        doctors = await api.list_doctors(limit=50)
    except PartnerApiError as exc:  # RouteUnavailable, outage: a typed id still works
        log.info("wizard doctor list unavailable: %s", type(exc).__name__)
        return []
    listed = {
        d.id: ListedDoctor(d.full_name or None, doctor_cost(d), doctor_unavailable(d))
        for d in doctors
        if d.id is not None
    }
    buttons = [
        _doctor_button(
            d.id,
            listed[d.id].name,
            d.specialties[0].name if d.specialties else None,
            listed[d.id].unavailable,
        )
        for d in doctors
        if d.id is not None
    ]
    _api_lists[api] = _ApiList(monotonic() + API_LIST_TTL, buttons, listed)
    return [dict(button) for button in buttons]


def _common(manager: DialogManager) -> dict[str, Any]:
    # The error is shown once, above the question it refers to.
    error = manager.dialog_data.pop(S.ERROR, None)
    return {"error": error or ""}


def _doctor_text(data: dict[str, Any], t: Translator) -> str:
    name = data.get(S.DOCTOR_NAME)
    if name:
        return escape(name)
    return t("wizard-doctor-unnamed", doctor_id=data.get(S.DOCTOR_ID) or 0)


def start_text(
    data: dict[str, Any], t: Translator, tz: ZoneInfo, now: datetime | None = None
) -> str:
    """The chosen start with its date; the year only when it is not ``now``'s."""
    begin = S.begin_at_of(data)
    if begin is None:
        return t("wizard-start-now")
    return format_local(begin, tz, t.lang, now=now, with_date=True)


def duration_text(data: dict[str, Any], t: Translator) -> str:
    minutes = data.get(S.DURATION)
    return t("wizard-duration-minutes", minutes=minutes) if minutes else t("wizard-duration-none")


def attachment_text(data: dict[str, Any], t: Translator) -> str:
    attachment = data.get(S.ATTACHMENT)
    return escape(attachment["name"]) if attachment else t("wizard-attachment-none")


async def doctor_getter(
    dialog_manager: DialogManager,
    session: AsyncSession,
    api: PartnerApiClient | None = None,
    **_: Any,
) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    if S.DOCTORS not in data:
        data[S.DOCTORS] = await load_doctor_buttons(session, api)
    doctors = data[S.DOCTORS]
    return {
        **_common(dialog_manager),
        # Reached from Edit or after a refusal: Back returns to the summary.
        "editing": bool(data.get(S.EDITING)) and S.is_complete(data),
        "doctors": doctors,
        "has_doctors": bool(doctors),
        "doctors_paged": len(doctors) > DOCTORS_PER_PAGE,
        "no_doctors": not doctors,
        "any_unavailable": any(d["unavailable"] for d in doctors),
    }


def _unavailable(data: dict[str, Any]) -> bool:
    return bool(data.get(S.DOCTOR_UNAVAILABLE))


async def phone_getter(dialog_manager: DialogManager, t: Translator, **_: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return {
        **_common(dialog_manager),
        "doctor": _doctor_text(data, t),
        "doctor_unavailable": _unavailable(data),
    }


async def phone_warning_getter(
    dialog_manager: DialogManager, t: Translator, tz: ZoneInfo, **_: Any
) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    warning = data.get(S.PHONE_WARNING) or {}
    what = (
        t("wizard-phone-warning-unknown")
        if warning.get("state") in ("unknown", "starting")
        else t("wizard-phone-warning-active")
    )
    begin = warning.get("begin_at")
    doctor = warning.get("doctor")
    return {
        **_common(dialog_manager),
        "phone": warning.get("display") or data.get(S.PHONE_DISPLAY, ""),
        "what": what,
        # The card's short id (the partner's, or "#7" before it is known), as lists show it.
        "short_id": escape(str(warning.get("short_id", ""))),
        "doctor": escape(doctor)
        if doctor
        else t("wizard-doctor-unnamed", doctor_id=warning.get("doctor_id") or 0),
        "start": format_local(
            datetime.fromisoformat(begin), tz, t.lang, now=now_of(dialog_manager), with_date=True
        )
        if begin
        else t("wizard-start-now"),
    }


async def name_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {
        **_common(dialog_manager),
        "phone": dialog_manager.dialog_data.get(S.PHONE_DISPLAY, ""),
    }


async def time_getter(
    dialog_manager: DialogManager, t: Translator, tz: ZoneInfo, **_: Any
) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return {
        **_common(dialog_manager),
        "name": escape(data.get(S.NAME, "")),
        "zone": zone_label(tz, t.lang, now_of(dialog_manager)),
        "start": start_text(data, t, tz, now_of(dialog_manager)),
        "has_start": bool(data.get(S.BEGIN_AT)),
    }


async def clock_getter(
    dialog_manager: DialogManager, t: Translator, tz: ZoneInfo, **_: Any
) -> dict[str, Any]:
    picked = dialog_manager.dialog_data.get(S.PICKED_DATE)
    shown = datetime.fromisoformat(picked).strftime("%d.%m.%Y") if picked else ""
    zone = zone_label(tz, t.lang, now_of(dialog_manager))
    return {**_common(dialog_manager), "date": shown, "zone": zone}


async def duration_getter(
    dialog_manager: DialogManager, t: Translator, tz: ZoneInfo, **_: Any
) -> dict[str, Any]:
    return {
        **_common(dialog_manager),
        "start": start_text(dialog_manager.dialog_data, t, tz, now_of(dialog_manager)),
        "min": MIN_MINUTES,
        "max": MAX_MINUTES,
        "quick": [
            {"minutes": m, "label": t("wizard-btn-minutes", minutes=m)} for m in QUICK_MINUTES
        ],
    }


async def attachment_getter(
    dialog_manager: DialogManager, t: Translator, **_: Any
) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return {
        **_common(dialog_manager),
        "limit_mb": MAX_ATTACHMENT_BYTES // (1024 * 1024),
        "has_attachment": bool(data.get(S.ATTACHMENT)),
        "attachment": attachment_text(data, t),
    }


async def summary_getter(
    dialog_manager: DialogManager, t: Translator, tz: ZoneInfo, **_: Any
) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    cost = data.get(S.DOCTOR_COST)
    return {
        **_common(dialog_manager),
        "doctor": _doctor_text(data, t),
        "cost": cost or "",
        "has_cost": bool(cost),
        "doctor_unavailable": _unavailable(data),
        "phone": data.get(S.PHONE_DISPLAY, ""),
        "name": escape(data.get(S.NAME, "")),
        "start": start_text(data, t, tz, now_of(dialog_manager)),
        "duration": duration_text(data, t),
        "attachment": attachment_text(data, t),
    }


async def retry_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {
        **_common(dialog_manager),
        "reason": dialog_manager.dialog_data.get(S.RETRY_ERROR, ""),
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_of(manager: DialogManager) -> datetime:
    """The wizard's "now": the ``clock`` of the dispatcher's workflow data (a
    ``Callable[[], datetime]``, aware) when one is set, else the wall clock."""
    clock = manager.middleware_data.get("clock")
    return clock() if callable(clock) else utcnow()
