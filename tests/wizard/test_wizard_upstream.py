"""Upstream answers to Confirm: refusals lead back to the step that can fix them; a lost
answer never leads to a second start."""

from __future__ import annotations

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram_dialog import DialogManager, StartMode

from bot.states import StartCallbackSG
from storage.enums import ConsultationState, EventSource, Role
from storage.repositories.users import UserRepository
from tests.wizard.conftest import ADMIN_ID, SECOND_ADMIN_ID, Env
from tests.wizard.helpers import (
    ASK_DOCTOR,
    ASK_DURATION,
    ASK_PHONE,
    ASK_TIME,
    CANCEL,
    CONFIRM,
    DOCTOR_101,
    DOCTOR_102,
    NAME,
    NOW,
    NOW_ONLY,
    PHONE,
    SKIP,
    SUMMARY,
    text,
    to_summary,
)

STORED_ADMIN_ID = SECOND_ADMIN_ID  # stored in English; alerted because it is in ADMIN_IDS


def _fault_402(env: Env) -> None:
    env.sandbox.inject_fault(
        "start",
        "error",
        status=402,
        type="insufficient_funds",
        value="balance",
        description="Not enough money.",
    )


async def test_insufficient_funds_stops_and_alerts_admins(env: Env) -> None:
    async with env.session_factory() as session:  # a second admin, stored, in English
        await UserRepository(session).upsert(STORED_ADMIN_ID, Role.ADMIN, display_name="A2")
        await UserRepository(session).set_language(STORED_ADMIN_ID, "en")
        await session.commit()
    u = env.user()
    await to_summary(u)
    _fault_402(env)
    await u.press(CONFIRM)
    assert "недостаточно средств" in text(u) and "Администраторы предупреждены" in text(u)
    assert len(env.start_requests()) == 1
    (record,) = await env.consultations()
    assert record.state is ConsultationState.FAILED and record.partner_id is None
    # Another attempt, another 402 (the same incident): no second alert.
    await to_summary(u)
    _fault_402(env)
    await u.press(CONFIRM)
    assert "Администраторы предупреждены" in text(u)
    assert len(env.start_requests()) == 2
    rows = await env.outbox()
    alerts = {chat: [m for m in rows if m.chat_id == chat] for chat in (ADMIN_ID, STORED_ADMIN_ID)}
    assert {chat: len(found) for chat, found in alerts.items()} == {ADMIN_ID: 1, STORED_ADMIN_ID: 1}
    assert all(
        (m.dedupe_key or "").startswith("alert:insufficient_funds:") for m in rows if m.chat_id
        in alerts
    )
    # An ADMIN_IDS entry never seen: Russian; the stored one chose English.
    assert "недостаточно средств" in (alerts[ADMIN_ID][0].text or "")
    assert "insufficient funds" in (alerts[STORED_ADMIN_ID][0].text or "")
    for found in alerts.values():
        assert NAME not in (found[0].text or "") and "9099708593" not in (found[0].text or "")
    assert env.wakeups
    # The wizard is closed: its buttons are stale now.
    await u.send_text("ещё текст")
    assert SUMMARY not in text(u)


async def test_unknown_doctor_goes_back_to_doctor_step(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault(
        "start", "error", status=404, type="not_found", value="doctor", description="No doctor."
    )
    await u.press(CONFIRM)
    assert "Врач с таким номером не найден" in text(u) and ASK_DOCTOR in text(u)
    (record,) = await env.consultations()
    assert record.state is ConsultationState.FAILED
    await u.press(DOCTOR_102)  # fix it → straight back to the summary
    assert SUMMARY in text(u) and "Смирнов" in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 2
    states = [c.state for c in await env.consultations()]
    assert states == [ConsultationState.FAILED, ConsultationState.ACTIVE]


async def test_bad_phone_argument_goes_back_to_phone_step(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault(
        "start",
        "error",
        status=400,
        type="bad_argument",
        value="patientPhone",
        description="Bad phone.",
    )
    await u.press(CONFIRM)
    assert "телефон пациента" in text(u).lower() and ASK_PHONE in text(u)
    await u.send_text("+7 916 123-45-67")
    assert SUMMARY in text(u) and "+7 916 123-45-67" in text(u)


@pytest.mark.parametrize(
    ("status", "kind"), [(409, "conflict"), (400, "limit_exceeded")], ids=["409", "limit"]
)
async def test_conflict_or_limit_offers_doctor_or_time(env: Env, status: int, kind: str) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault("start", "error", status=status, type=kind, value="doctor")
    await u.press(CONFIRM)
    assert u.buttons() == ["Другой врач", "Другое время", "◀ Назад", CANCEL]
    await u.press("Другое время")
    assert ASK_TIME in text(u)
    await u.press(NOW)
    assert SUMMARY in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 2


async def test_unavailable_doctor_refused_by_sandbox(env: Env) -> None:
    # Doctor 106 has callbacks disabled: the sandbox answers 409 by itself.
    u = env.user()
    await u.send_command("start_callback")
    await u.press("⛔ Соколов Игорь Михайлович · Эндокринолог")
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press(NOW_ONLY)
    await u.press(CONFIRM)
    await u.press("Другой врач")
    assert ASK_DOCTOR in text(u)
    await u.press(DOCTOR_101)
    assert SUMMARY in text(u)
    await u.press(CONFIRM)
    assert [c.state for c in await env.consultations()] == [
        ConsultationState.FAILED,
        ConsultationState.ACTIVE,
    ]


async def test_outage_stays_at_summary_and_retries(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault("start", "503")
    await u.press(CONFIRM)
    assert "недоступен" in text(u) and SUMMARY in text(u)
    assert "Подтвердить" in text(u)  # says how to try again
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 2
    assert [c.state for c in await env.consultations()] == [
        ConsultationState.FAILED,
        ConsultationState.ACTIVE,
    ]


@pytest.mark.parametrize("kind", ["drop", "timeout"])
async def test_lost_answer_never_starts_twice(env: Env, kind: str) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault("start", kind)
    await u.press(CONFIRM)
    await u.send_text("/help")  # handled after the confirm and its first check
    assert len(env.start_requests()) == 1  # never a second call
    (remote,) = env.sandbox.callbacks.values()
    (record,) = await env.consultations()
    # The first check found it in get-all: same doctor, same phone, created just now.
    assert env.sandbox.requests_for("get_all")
    assert record.partner_id == remote.id and record.state is ConsultationState.ACTIVE
    (event,) = await env.events(record.id)
    # Still the wizard's start: stored as such, and flagged so the notifications worker
    # announces it (the doctor's "booked") like any other start.
    assert event.source is EventSource.START
    assert record.needs_refresh is True
    card = next(m for m in reversed(u.bot_messages()) if m.message_id == record.card_message_id)
    assert "Зарегистрирована" in card.content and "проверяем" not in card.content
    assert card.history, "the card was first shown as 'being checked', then edited"


async def test_lost_answer_not_found_stays_unknown(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault("start", "drop")
    env.sandbox.inject_fault("get_all", "503", count=10)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 1
    (record,) = await env.consultations()
    assert record.state is ConsultationState.UNKNOWN and record.partner_id is None
    assert "проверяем, запущена ли консультация" in text(u)
    # The phone is now guarded: a new wizard warns before a second call.
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    assert "исход запуска проверяется" in text(u)


async def _repeat(message: Message, dialog_manager: DialogManager) -> None:
    # What a Repeat/Reschedule button elsewhere does (see the wizard package docstring).
    await dialog_manager.start(
        StartCallbackSG.start_time,
        data={
            "doctor_id": 102,
            "doctor_name": "Смирнов Алексей Викторович",
            "phone": "+79099708593",
            "patient_name": NAME,
            "duration_min": 30,
            "unknown": "ignored",
        },
        mode=StartMode.RESET_STACK,
    )


def _repeat_router() -> Router:
    router = Router(name="test_repeat")
    router.message.register(_repeat, Command("repeat"))
    return router


async def test_prefilled_start(env: Env) -> None:
    env.test_routers.append(_repeat_router)
    await env.restart()
    u = env.user()
    await u.send_command("repeat")
    assert ASK_TIME in text(u) and NAME in text(u)
    await u.press(NOW)
    assert ASK_DURATION in text(u)
    await u.press("30 мин")
    await u.press(SKIP)
    summary = text(u)
    assert "Смирнов" in summary and "+7 909 970-85-93" in summary and "30 мин" in summary
    await u.press(CONFIRM)
    (remote,) = env.sandbox.callbacks.values()
    assert remote.doctor_id == 102 and remote.duration_min == 30
