"""The doctor step: a doctor picked from the list, or an id typed."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Select

from api_client.client import PartnerApiClient
from api_client.errors import NotFound, PartnerApiError
from bot.dialogs.answered import answer_early
from bot.dialogs.start_callback import state as S
from bot.dialogs.start_callback.getters import doctor_cost, doctor_unavailable, listed_doctor
from bot.dialogs.start_callback.handlers import go_next, set_error

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- doctor


async def _choose_doctor(
    manager: DialogManager,
    doctor_id: int,
    *,
    typed: bool,
    before_lookup: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """The doctor's name, cost and availability: from the partner's list of moments ago, or
    looked up (``before_lookup`` runs first); False when the API says no such one."""
    data = manager.dialog_data
    api: PartnerApiClient | None = manager.middleware_data.get("api")
    known = next((d for d in data.get(S.DOCTORS, []) if d["id"] == doctor_id), None)
    name = known["name"] if known else None
    unavailable = bool(known and known["unavailable"])
    cost: str | None = None
    checked = False
    listed = listed_doctor(api, doctor_id)
    if listed is not None:  # the list of moments ago says it all: no second round trip
        checked = True
        name, cost, unavailable = listed.name or name, listed.cost, listed.unavailable
    elif api is not None:
        if before_lookup is not None:
            await before_lookup()
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
    # The list is written with the conversation on every update: gone once the doctor is
    # chosen (the step loads it anew if the coordinator comes back to it).
    data.pop(S.DOCTORS, None)
    if typed and not checked and known is None:
        set_error(manager, "wizard-doctor-unchecked", doctor_id=str(doctor_id))
    return True


async def on_doctor_selected(
    callback: CallbackQuery, widget: Select[int], manager: DialogManager, item_id: int
) -> None:
    async def answer_now() -> None:  # a lookup may take a while: the press answered first
        await answer_early(callback, manager.middleware_data)

    if await _choose_doctor(manager, int(item_id), typed=False, before_lookup=answer_now):
        await go_next(manager)


_DOCTOR_ID = re.compile(r"^(?:id|№|#|n)?\s*(\d{1,9})$", re.IGNORECASE)


async def on_doctor_typed(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    match = _DOCTOR_ID.match((message.text or "").strip())
    if not match or int(match.group(1)) <= 0:
        set_error(manager, "wizard-doctor-error-not-a-number")
        return
    if await _choose_doctor(manager, int(match.group(1)), typed=True):
        await go_next(manager)
