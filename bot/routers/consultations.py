"""/list, /find and the consultation card's buttons (issue 7).

The list itself is an aiogram-dialog window (bot/dialogs/consultations_list); this router
opens it, and handles the card: Refresh, Terminate (with confirmation), Repeat,
Reschedule, "I can't take it", Back to the list. The wizard's own card buttons
(``card:…``, bot/callback_data.py: a card drawn outside a list) are handled here too,
through the same path with no list position. Every card is drawn by
``bot/rendering/card.py::render_card``.

Every press is checked on arrival (layout version, private chat, the consultation exists
and this user may see it) and answered before any call to the partner API.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode
from sqlalchemy.ext.asyncio import AsyncSession

from api_client.errors import Conflict, PartnerApiError
from api_client.models import Callback, RequestStatus
from bot.callback_data import CardCallback
from bot.dialogs.consultations_list import ConsultationsListSG, build_list_dialog
from bot.dialogs.consultations_list import card as card_view
from bot.dialogs.consultations_list.callback_data import (
    VERSION,
    ConsAction,
    ConsCallback,
    ListFilter,
    ListPosition,
)
from bot.dialogs.consultations_list.dialog import position_data
from bot.dialogs.consultations_list.source import doctor_name_of, is_staff, may_see, role_value
from bot.i18n import I18n, Translator, language_of
from bot.notifications.messages import short_id
from bot.notifications.runtime import status_processor
from bot.rendering.card import (
    CONS_ACTIONS,
    CardView,
    CardViewer,
    confirm_keyboard,
    current_status,
    is_final,
    render_card,
)
from bot.rendering.time import format_local
from bot.routers.conclusion import may_read
from bot.services.status_changes import StatusProcessor
from storage.enums import EventSource, Role
from storage.models import Consultation
from storage.repositories import (
    AuditRepository,
    ConsultationRepository,
    OutboxRepository,
    UserRepository,
)

log = logging.getLogger(__name__)

ALL_ROLES = {"admin", "coordinator", "doctor"}
STAFF_ROLES = {"admin", "coordinator"}
TERMINATED_ACTION = "consultation_terminated"
FIND_KEY = "lst_find"  # the last /find text, so "Back" from a found card can list it again


# --------------------------------------------------------------------------- helpers


async def _edit(message: Any, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


async def _load_visible(
    query: CallbackQuery, cid: int, session: AsyncSession, user: Any, t: Translator
) -> Consultation | None:
    """The consultation, or None after a short alert (absent, or not this user's)."""
    consultation = await ConsultationRepository(session).get(cid)
    if not may_see(user, consultation):
        log.info("card_refused consultation=%s user=%s", cid, getattr(user, "telegram_id", None))
        await query.answer(t("list-not-found"), show_alert=True)
        return None
    return consultation


async def _apply_fresh(
    data: dict[str, Any], consultation: Consultation, fetched: card_view.Fetched
) -> None:
    """Let the notifications' shared apply path store what the look found (and tell whom
    it concerns); without it the reconcile job will catch up."""
    notifications = data.get("notifications")
    processor = getattr(notifications, "processor", None)
    if processor is None or fetched.callback is None:
        return
    session: AsyncSession = data["session"]
    try:
        result = await processor.apply(
            session, consultation, fetched.callback, EventSource.RECONCILE
        )
    except Exception:  # a card must still show even if the bookkeeping failed
        log.exception("card_apply_failed consultation=%s", consultation.id)
        return
    if getattr(result, "queued", 0):
        await session.commit()
        data["outbox_wakeup"]()


async def _show(
    message: Any,
    consultation: Consultation,
    back: ListPosition | None,
    data: dict[str, Any],
    *,
    header: str | None = None,
    fetched: card_view.Fetched | None = None,
) -> card_view.Fetched:
    """Draw the card in ``message`` (``back``: opened from a list at that position)."""
    if fetched is None:
        fetched = await card_view.fetch(data["api"], consultation)
        await _apply_fresh(data, consultation, fetched)
    session: AsyncSession = data["session"]
    await session.refresh(consultation)
    user = data.get("user")
    viewer = CardViewer.of(
        user,
        private=message.chat.type == ChatType.PRIVATE,
        back=back,
        reads_conclusion=may_read(user, consultation, data["settings"].admin_ids),
    )
    view = CardView.of(consultation, fetched.callback, offline=fetched.offline)
    text, markup = render_card(view, data["t"], data["tz"], viewer, header=header)
    await _edit(message, text, markup)
    return fetched


async def show_card_in_place(
    query: CallbackQuery, consultation: Consultation, pos: ListPosition, data: dict[str, Any]
) -> None:
    """A list row was pressed (answered, and the row checked visible by the list): the
    list message becomes the card."""
    assert query.message is not None
    await _show(query.message, consultation, pos, data)


def _prefill(consultation: Consultation, cb: Any) -> dict[str, Any]:
    """The wizard's prefill keys (bot/dialogs/start_callback/__init__.py)."""
    data: dict[str, Any] = {"doctor_id": consultation.doctor_id}
    doctor = doctor_name_of(cb, consultation) if cb is not None else consultation.doctor_name
    if doctor:
        data["doctor_name"] = doctor
    phone = consultation.patient_phone
    name = consultation.patient_name
    if cb is not None and consultation.purged_at is None:
        phone = cb.patient_phone.e164 if cb.patient_phone is not None else phone
        name = cb.patient_full_name or name
    if phone:
        data["phone"] = phone
    if name:
        data["patient_name"] = name
    if consultation.duration_min:
        data["duration_min"] = consultation.duration_min
    return data


async def _open_wizard(dialog_manager: DialogManager, consultation: Consultation, cb: Any) -> None:
    from bot.states import StartCallbackSG

    await dialog_manager.start(
        StartCallbackSG.start_time,
        data=_prefill(consultation, cb),
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,  # the card stays; the wizard comes as a new message
    )


def _processor(data: dict[str, Any]) -> StatusProcessor:
    """The notifications' shared apply path (the running component's, or an equal one)."""
    processor = getattr(data.get("notifications"), "processor", None)
    if isinstance(processor, StatusProcessor):
        return processor
    settings = data["settings"]
    return status_processor(
        data["i18n"],
        admin_ids=settings.admin_ids,
        default_timezone=settings.default_timezone,
        team_chat_id=settings.team_chat_id,
    )


def _terminated_answer(consultation: Consultation) -> Callback:
    """What we know right after the service confirmed a terminate: it is Unsuccessful now
    (recorded at our clock; the partner's own history entry matches it at a later look)."""
    return Callback.model_validate(
        {"id": consultation.partner_id, "status": {"id": RequestStatus.UNSUCCESSFUL.value}}
    )


def _patient(consultation: Consultation) -> str:
    from html import escape

    return escape(consultation.patient_name or "—")


# --------------------------------------------------------------------------- terminate


async def _terminate(
    query: CallbackQuery,
    consultation: Consultation,
    pos: ListPosition | None,
    data: dict[str, Any],
) -> bool:
    """True when the consultation is finished now (by us, or already before)."""
    t: Translator = data["t"]
    session: AsyncSession = data["session"]
    message = query.message
    if is_final(consultation):
        await query.answer(t("list-already-finished"), show_alert=True)
        await _show(message, consultation, pos, data, header=t("list-already-finished"))
        return True
    await query.answer()
    api = data["api"]
    assert message is not None
    try:
        confirmed = await api.terminate_callback(consultation.partner_id)
    except Conflict:
        log.info("terminate_conflict consultation=%s", consultation.id)
        await _show(message, consultation, pos, data, header=t("list-already-finished"))
        return True
    except PartnerApiError as exc:
        log.info("terminate_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        await message.answer(t("list-terminate-failed", reason=exc.user_message(t.lang)))
        await _show(message, consultation, pos, data)
        return False
    if not confirmed:
        # A 2xx with {"success": false}: the service did not terminate it.
        log.info("terminate_refused consultation=%s", consultation.id)
        await message.answer(t("list-terminate-failed", reason=t("list-terminate-refused")))
        await _show(message, consultation, pos, data)
        return False
    # Recorded at once, before the look below: the partner's web-hook may be processed by
    # the worker meanwhile, and must find the terminate already stored (no news, so no
    # "did not take place" pushed to the coordinator who pressed). The same path as that
    # web-hook (StatusProcessor.apply, source terminate): one event, and one dedupe key per
    # recipient, so the doctor hears it once whichever of the two comes first.
    drawn = (message.chat.id, message.message_id) == (
        consultation.card_chat_id,
        consultation.card_message_id,
    )
    result = await _processor(data).apply(
        session,
        consultation,
        _terminated_answer(consultation),
        EventSource.TERMINATE,
        actor_chat_id=query.from_user.id,
        card_drawn=drawn,
    )
    # Who terminated which consultation (ids only), in the same transaction as the event.
    await AuditRepository(session).add(
        query.from_user.id, TERMINATED_ACTION, f"consultation:{consultation.id}"
    )
    await session.commit()
    fetched = await card_view.fetch(api, consultation)
    if result.queued:
        data["outbox_wakeup"]()
    log.info(
        "terminated consultation=%s recorded=%d queued=%d",
        consultation.id,
        result.recorded,
        result.queued,
    )
    await _show(message, consultation, pos, data, header=t("list-terminated"), fetched=fetched)
    return True


# --------------------------------------------------------------------------- handlers


async def cmd_list(message: Message, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(
        ConsultationsListSG.main,
        data=position_data(ListPosition()),
        mode=StartMode.RESET_STACK,
    )


async def cmd_find(
    message: Message,
    command: CommandObject,
    dialog_manager: DialogManager,
    state: FSMContext,
    t: Translator,
) -> None:
    text = (command.args or "").strip()
    if not text:
        await message.answer(t("list-find-usage"))
        return
    await state.update_data({FIND_KEY: text[:100]})
    await dialog_manager.start(
        ConsultationsListSG.main,
        data=position_data(ListPosition(f=ListFilter.FIND), text[:100]),
        mode=StartMode.RESET_STACK,
    )


async def on_back(
    query: CallbackQuery,
    callback_data: ListPosition,
    dialog_manager: DialogManager,
    state: FSMContext,
) -> None:
    await query.answer()
    text = None
    pos = callback_data
    if pos.f is ListFilter.FIND:
        text = (await state.get_data()).get(FIND_KEY)
        if not text:
            pos = ListPosition(p=0)
    await dialog_manager.start(
        ConsultationsListSG.main,
        data=position_data(pos, text),
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.EDIT,
    )


async def on_card_button(
    query: CallbackQuery,
    callback_data: ConsCallback,
    dialog_manager: DialogManager,
    **data: Any,
) -> None:
    await _handle(
        query, callback_data.act, callback_data.cid, callback_data.position(), dialog_manager, data
    )


async def on_wizard_card_button(
    query: CallbackQuery,
    callback_data: CardCallback,
    dialog_manager: DialogManager,
    **data: Any,
) -> None:
    # A card drawn outside a list: the same actions, no list to go back to.
    act = CONS_ACTIONS[callback_data.action]
    await _handle(query, act, callback_data.consultation_id, None, dialog_manager, data)


async def _handle(
    query: CallbackQuery,
    act: ConsAction,
    cid: int,
    pos: ListPosition | None,
    dialog_manager: DialogManager,
    data: dict[str, Any],
) -> None:
    t: Translator = data["t"]
    user = data.get("user")
    if query.message is None:
        await query.answer(t("list-stale-button"), show_alert=True)
        return
    consultation = await _load_visible(query, cid, data["session"], user, t)
    if consultation is None:
        return
    staff = is_staff(user)
    if (
        act
        in (
            ConsAction.TERMINATE,
            ConsAction.TERMINATE_YES,
            ConsAction.RESCHEDULE,
            ConsAction.RESCHEDULE_YES,
            ConsAction.REPEAT,
        )
        and not staff
    ):
        await query.answer(t("list-terminate-not-allowed"), show_alert=True)
        return

    if act is ConsAction.REFRESH or act is ConsAction.CONFIRM_NO:
        await query.answer()
        await _show(query.message, consultation, pos, data)
    elif act in (ConsAction.TERMINATE, ConsAction.RESCHEDULE):
        if is_final(consultation):
            await query.answer(t("list-already-finished"), show_alert=True)
            await _show(query.message, consultation, pos, data, header=t("list-already-finished"))
            return
        if act is ConsAction.RESCHEDULE and consultation.last_status != "Delayed":
            await query.answer(t("list-reschedule-not-scheduled"), show_alert=True)
            return
        await query.answer()
        key = "list-terminate-confirm" if act is ConsAction.TERMINATE else "list-reschedule-confirm"
        from html import escape

        question = t(
            key,
            patient=_patient(consultation),
            doctor=escape(consultation.doctor_name or "—"),
        )
        yes = ConsAction.TERMINATE_YES if act is ConsAction.TERMINATE else ConsAction.RESCHEDULE_YES
        await _edit(query.message, f"<b>{question}</b>", confirm_keyboard(cid, yes, pos, t))
    elif act is ConsAction.TERMINATE_YES:
        await _terminate(query, consultation, pos, data)
    elif act is ConsAction.RESCHEDULE_YES:
        if await _terminate(query, consultation, pos, data):
            fetched = await card_view.fetch(data["api"], consultation)
            await data["session"].refresh(consultation)
            if current_status(consultation, fetched.callback) == RequestStatus.PROCESSED.value:
                # The 409: it took place meanwhile — nothing to reschedule. The card (drawn
                # by _terminate) already says it has finished.
                log.info("reschedule_after_processed consultation=%s", consultation.id)
                return
            await _open_wizard(dialog_manager, consultation, fetched.callback)
    elif act is ConsAction.REPEAT:
        if not is_final(consultation):
            await query.answer(t("list-repeat-not-final"), show_alert=True)
            return
        await query.answer()
        fetched = await card_view.fetch(data["api"], consultation)
        await _open_wizard(dialog_manager, consultation, fetched.callback)
    elif act is ConsAction.CANT_TAKE:
        await _cant_take(query, consultation, data)


async def _cant_take(
    query: CallbackQuery, consultation: Consultation, data: dict[str, Any]
) -> None:
    t: Translator = data["t"]
    user = data.get("user")
    session: AsyncSession = data["session"]
    if role_value(user) != Role.DOCTOR.value:
        await query.answer(t("access-forbidden"), show_alert=True)
        return
    if is_final(consultation):
        await query.answer(t("list-already-finished"), show_alert=True)
        return
    users = UserRepository(session)
    recipients: list[Any] = []
    if consultation.coordinator_id is not None:
        coordinator = await users.get(consultation.coordinator_id)
        if coordinator is not None and coordinator.is_active:
            recipients.append(coordinator)
    if not recipients:  # started elsewhere, or its coordinator left: the admins hear it
        settings = data["settings"]
        recipients = [u for u in (await users.get_many(settings.admin_ids)).values() if u.is_active]
    if not recipients:
        await query.answer(t("list-cant-take-nobody"), show_alert=True)
        return
    outbox = OutboxRepository(session)
    i18n: I18n = data["i18n"]
    from zoneinfo import ZoneInfo

    for recipient in recipients:
        rt = i18n.translator(language_of(recipient))
        try:
            zone = ZoneInfo(recipient.timezone or data["settings"].default_timezone)
        except (KeyError, ValueError):
            zone = data["tz"]
        when = (
            format_local(consultation.begin_at, zone, rt.lang, with_date=True)
            if consultation.begin_at is not None
            else rt("wizard-start-now")
        )
        from html import escape

        await outbox.enqueue(
            recipient.telegram_id,
            rt(
                "list-cant-take-message",
                doctor=escape(getattr(user, "display_name", "") or consultation.doctor_name or "—"),
                short_id=short_id(consultation.partner_id, consultation.id),
                patient=_patient(consultation),
                when=when,
            ),
            dedupe_key=f"cons:{consultation.id}:cant:{query.from_user.id}:to:{recipient.telegram_id}",
            consultation_id=consultation.id,
        )
    await session.commit()
    await query.answer(t("list-cant-take-sent"), show_alert=True)
    data["outbox_wakeup"]()
    log.info("cant_take consultation=%s told=%d", consultation.id, len(recipients))


async def on_stale(query: CallbackQuery, t: Translator) -> None:
    """A ``lst``/``cons`` button this version cannot read (older layout, or forged)."""
    await query.answer(t("list-stale-button"), show_alert=True)


def setup() -> Router:
    router = Router(name="consultations")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_list, Command("list"), flags={"roles": ALL_ROLES})
    router.message.register(cmd_find, Command("find"), flags={"roles": ALL_ROLES})
    router.callback_query.register(
        on_back, ListPosition.filter(F.v == VERSION), flags={"roles": ALL_ROLES}
    )
    router.callback_query.register(
        on_card_button, ConsCallback.filter(F.v == VERSION), flags={"roles": ALL_ROLES}
    )
    router.callback_query.register(
        on_wizard_card_button, CardCallback.filter(), flags={"roles": ALL_ROLES}
    )
    router.callback_query.register(on_stale, F.data.startswith("lst:") | F.data.startswith("cons:"))
    router.include_router(build_list_dialog())
    return router
