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
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode

from api_client.models import RequestStatus
from bot.callback_data import (
    VERSION,
    CardCallback,
    ConsAction,
    ConsCallback,
    ListFilter,
    ListPosition,
)
from bot.dialogs.consultations_list import ConsultationsListSG, build_list_dialog
from bot.dialogs.consultations_list import card as card_view
from bot.dialogs.consultations_list.card import CardContext, CardContextMiddleware
from bot.dialogs.consultations_list.dialog import position_data
from bot.i18n import Translator
from bot.notifications.messages import short_id
from bot.rendering.card import (
    CONS_ACTIONS,
    confirm_keyboard,
    current_status,
    is_final,
)
from bot.rendering.partner_errors import partner_error_text
from bot.rendering.time import format_local
from bot.services.access import Action, authorize
from bot.services.consultation_actions import (
    TerminateOutcome,
    cant_take,
    open_consultation,
    prefill,
    terminate,
)
from bot.services.context import actor_of
from bot.services.recipients import Person
from storage.models import Consultation, User

log = logging.getLogger(__name__)

_ACTIONS: dict[ConsAction, Action] = {
    ConsAction.REFRESH: Action.REFRESH,
    ConsAction.CONFIRM_NO: Action.REFRESH,
    ConsAction.TERMINATE: Action.TERMINATE,
    ConsAction.TERMINATE_YES: Action.TERMINATE,
    ConsAction.RESCHEDULE: Action.RESCHEDULE,
    ConsAction.RESCHEDULE_YES: Action.RESCHEDULE,
    ConsAction.REPEAT: Action.REPEAT,
    ConsAction.CANT_TAKE: Action.CANT_TAKE,
}
FIND_KEY = "lst_find"  # the last /find text, so "Back" from a found card can list it again


# --------------------------------------------------------------------------- helpers


async def _open_wizard(dialog_manager: DialogManager, consultation: Consultation, cb: Any) -> None:
    from bot.states import StartCallbackSG

    await dialog_manager.start(
        StartCallbackSG.start_time,
        data=prefill(consultation, cb),
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,  # the card stays; the wizard comes as a new message
    )


def _patient(consultation: Consultation) -> str:
    return escape(consultation.patient_name or "—")


# --------------------------------------------------------------------------- terminate


async def _terminate(
    query: CallbackQuery,
    consultation: Consultation,
    pos: ListPosition | None,
    ctx: CardContext,
) -> bool:
    """True when the consultation is finished now (by us, or already before)."""
    t = ctx.t
    message = query.message
    assert message is not None
    if is_final(consultation):
        await query.answer(t("list-already-finished"), show_alert=True)
        await card_view.show(message, consultation, pos, ctx, header=t("list-already-finished"))
        return True
    await query.answer()
    drawn = (message.chat.id, message.message_id) == (
        consultation.card_chat_id,
        consultation.card_message_id,
    )
    done = await terminate(
        ctx.session, ctx.api, ctx.processor, ctx.actor, consultation, card_drawn=drawn
    )
    if done.outcome is TerminateOutcome.ALREADY_FINAL:
        await card_view.show(message, consultation, pos, ctx, header=t("list-already-finished"))
        return True
    if done.outcome is not TerminateOutcome.DONE:
        reason = (
            partner_error_text(t, done.error)
            if done.error is not None
            else t("list-terminate-refused")
        )
        await message.answer(t("list-terminate-failed", reason=reason))
        await card_view.show(message, consultation, pos, ctx)
        return False
    fetched = await card_view.fetch(ctx.api, consultation)
    if done.queued:
        ctx.outbox_wakeup()
    await card_view.show(
        message, consultation, pos, ctx, header=t("list-terminated"), fetched=fetched
    )
    return True


# --------------------------------------------------------------------------- handlers


async def cmd_list(message: Message, dialog_manager: DialogManager) -> None:
    authorize(actor_of(dialog_manager.middleware_data), Action.LIST)
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
    authorize(actor_of(dialog_manager.middleware_data), Action.FIND)
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
    authorize(actor_of(dialog_manager.middleware_data), Action.LIST)
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
    card: CardContext,
    user: User | None,
) -> None:
    await _handle(
        query,
        callback_data.act,
        callback_data.cid,
        callback_data.position(),
        dialog_manager,
        card,
        user,
    )


async def on_wizard_card_button(
    query: CallbackQuery,
    callback_data: CardCallback,
    dialog_manager: DialogManager,
    card: CardContext,
    user: User | None,
) -> None:
    # A card drawn outside a list: the same actions, no list to go back to.
    act = CONS_ACTIONS[callback_data.action]
    await _handle(query, act, callback_data.consultation_id, None, dialog_manager, card, user)


async def _handle(
    query: CallbackQuery,
    act: ConsAction,
    cid: int,
    pos: ListPosition | None,
    dialog_manager: DialogManager,
    ctx: CardContext,
    user: User | None,
) -> None:
    t = ctx.t
    if query.message is None:
        await query.answer(t("list-stale-button"), show_alert=True)
        return
    # The policy decides on the consultation as stored and the actor as stored now; a
    # refusal (AccessDenied) is answered by the errors router in one short sentence.
    consultation = await open_consultation(ctx.session, ctx.actor, cid, _ACTIONS[act])

    if act is ConsAction.REFRESH or act is ConsAction.CONFIRM_NO:
        await query.answer()
        await card_view.show(query.message, consultation, pos, ctx)
    elif act in (ConsAction.TERMINATE, ConsAction.RESCHEDULE):
        if is_final(consultation):
            await query.answer(t("list-already-finished"), show_alert=True)
            await card_view.show(
                query.message, consultation, pos, ctx, header=t("list-already-finished")
            )
            return
        if act is ConsAction.RESCHEDULE and consultation.last_status != "Delayed":
            await query.answer(t("list-reschedule-not-scheduled"), show_alert=True)
            return
        await query.answer()
        key = "list-terminate-confirm" if act is ConsAction.TERMINATE else "list-reschedule-confirm"
        question = t(
            key,
            patient=_patient(consultation),
            doctor=escape(consultation.doctor_name or "—"),
        )
        yes = ConsAction.TERMINATE_YES if act is ConsAction.TERMINATE else ConsAction.RESCHEDULE_YES
        await card_view.edit(
            query.message, f"<b>{question}</b>", confirm_keyboard(cid, yes, pos, t)
        )
    elif act is ConsAction.TERMINATE_YES:
        await _terminate(query, consultation, pos, ctx)
    elif act is ConsAction.RESCHEDULE_YES:
        if await _terminate(query, consultation, pos, ctx):
            fetched = await card_view.fetch(ctx.api, consultation)
            await ctx.session.refresh(consultation)
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
        fetched = await card_view.fetch(ctx.api, consultation)
        await _open_wizard(dialog_manager, consultation, fetched.callback)
    elif act is ConsAction.CANT_TAKE:
        await _cant_take(query, consultation, ctx, user)


async def _cant_take(
    query: CallbackQuery, consultation: Consultation, ctx: CardContext, user: User | None
) -> None:
    t, settings, i18n = ctx.t, ctx.settings, ctx.i18n
    doctor = escape(getattr(user, "display_name", "") or consultation.doctor_name or "—")

    def render(recipient: Person) -> str:
        rt = i18n.translator(recipient.lang)
        when = (
            format_local(consultation.begin_at, recipient.tz, rt.lang, with_date=True)
            if consultation.begin_at is not None
            else rt("wizard-start-now")
        )
        return rt(
            "list-cant-take-message",
            doctor=doctor,
            short_id=short_id(consultation.partner_id, consultation.id),
            patient=_patient(consultation),
            when=when,
        )

    told = await cant_take(
        ctx.session,
        ctx.actor,
        consultation,
        settings.admin_ids,
        settings.default_timezone,
        render,
    )
    if told is None:
        await query.answer(t("list-already-finished"), show_alert=True)
    elif told == 0:
        await query.answer(t("list-cant-take-nobody"), show_alert=True)
    else:
        await query.answer(t("list-cant-take-sent"), show_alert=True)
        ctx.outbox_wakeup()


async def on_stale(query: CallbackQuery, t: Translator) -> None:
    """A ``lst``/``cons`` button this version cannot read (older layout, or forged)."""
    await query.answer(t("list-stale-button"), show_alert=True)


def setup() -> Router:
    router = Router(name="consultations")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.callback_query.middleware(CardContextMiddleware())
    router.message.register(cmd_list, Command("list"))
    router.message.register(cmd_find, Command("find"))
    router.callback_query.register(on_back, ListPosition.filter(F.v == VERSION))
    router.callback_query.register(on_card_button, ConsCallback.filter(F.v == VERSION))
    router.callback_query.register(on_wizard_card_button, CardCallback.filter())
    router.callback_query.register(on_stale, F.data.startswith("lst:") | F.data.startswith("cons:"))
    router.include_router(build_list_dialog())
    return router
