"""The wizard after review: a patient is never called twice (a failure after the start, a
phone never checked, a 500, a time that passed), and the paths and texts that tripped
first-time coordinators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram_dialog import DialogManager, StartMode
from sqlalchemy import select

from bot.dialogs.start_callback import confirm
from bot.services import consultation_start
from bot.states import StartCallbackSG
from storage.enums import ConsultationState
from storage.models import AuditEntry
from tests.fixed_days import FIXED_TODAYS
from tests.wizard.conftest import COORDINATOR_ID, NSK_COORDINATOR_ID, Env
from tests.wizard.helpers import (
    ASK_DOCTOR,
    ASK_PHONE,
    ASK_TIME,
    BACK,
    CANCEL,
    CHANGE_PHONE,
    CONFIRM,
    CONTINUE,
    DOCTOR_101,
    EDIT,
    IN_15_MIN,
    NAME,
    NOW,
    NOW_ONLY,
    PHONE,
    PICK_DATE,
    SKIP,
    SUMMARY,
    WARNING,
    text,
    to_summary,
    to_time_step,
)

OTHER_PHONE = "+7 916 123-45-67"
MSK = ZoneInfo("Europe/Moscow")


async def _started_once(env: Env) -> None:
    """A first consultation for PHONE, started through the wizard."""
    u = env.user()
    await to_summary(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 1


def _confirm_data(u: Any) -> tuple[str, int]:
    """The Confirm button's data and message, to press it again once its keyboard is gone."""
    summary = u.last_bot_message()
    (button,) = [b for b in summary.buttons if b.text == CONFIRM]
    return button.callback_data or "", summary.message_id


async def _audit(env: Env) -> list[AuditEntry]:
    async with env.session_factory() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# ---------------------------------------------------------------- never call a patient twice


@pytest.mark.parametrize(
    ("module", "broken"), [(confirm, "_send_card"), (consultation_start, "bind_start")]
)
async def test_failure_after_start_closes_the_wizard(
    env: Env, monkeypatch: pytest.MonkeyPatch, module: Any, broken: str
) -> None:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(module, broken, fail)
    u = env.user()
    await to_summary(u)
    data, summary = _confirm_data(u)
    await u.press(CONFIRM)
    assert "карточку показать не удалось" in text(u) and "/list" in text(u)
    await u.press_data(data, summary)  # the old Confirm is stale now
    assert len(env.start_requests()) == 1
    (record,) = await env.consultations()
    assert record.state is not ConsultationState.FAILED  # left for the reconcile to settle
    # The start is on record even when the bind failed.
    assert [(a.actor_id, a.action, a.target) for a in await _audit(env)] == [
        (COORDINATOR_ID, "consultation_started", f"consultation:{record.id}")
    ]


async def _repeat(message: Message, dialog_manager: DialogManager) -> None:
    # What Repeat / Reschedule do: start at the time step, prefilled, phone step skipped.
    await dialog_manager.start(
        StartCallbackSG.start_time,
        data={
            "doctor_id": 102,
            "doctor_name": "Смирнов Алексей Викторович",
            "phone": "+79099708593",
            "patient_name": NAME,
            "duration_min": 30,
        },
        mode=StartMode.RESET_STACK,
    )


def _repeat_router() -> Router:
    router = Router(name="test_repeat_review")
    router.message.register(_repeat, Command("repeat"))
    return router


async def test_repeat_with_an_active_consultation_warns_on_confirm(env: Env) -> None:
    env.test_routers.append(_repeat_router)
    await env.restart()
    await _started_once(env)
    u = env.user()
    await u.send_command("repeat")
    await u.press(NOW_ONLY)
    assert SUMMARY in text(u)
    await u.press(CONFIRM)
    assert WARNING in text(u)
    assert len(env.start_requests()) == 1  # no start request
    assert len(await env.consultations()) == 1  # the held attempt left no record
    await u.press(CONTINUE)  # acknowledged: back to the summary, and this time it starts
    assert SUMMARY in text(u) and "30 мин" in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 2


async def test_two_coordinators_with_the_same_phone(env: Env) -> None:
    first, second = env.user(), env.user(NSK_COORDINATOR_ID)
    await to_summary(first)
    await to_summary(second)  # neither saw a warning: nothing was started yet
    await first.press(CONFIRM)
    await second.press(CONFIRM)
    assert WARNING in text(second)
    assert len(env.start_requests()) == 1
    (record,) = await env.consultations()
    assert record.coordinator_id == COORDINATOR_ID


async def test_500_on_start_is_an_unknown_outcome(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    data, summary = _confirm_data(u)
    env.sandbox.inject_fault("start", "500_html")
    await u.press(CONFIRM)
    # The sandbox's 500 does not create it: the first check looked and found nothing.
    (record,) = await env.consultations()
    assert record.state is ConsultationState.UNKNOWN
    assert env.sandbox.requests_for("get_all")
    assert "проверяем, запущена ли консультация" in text(u)
    await u.press_data(data, summary)  # no blind retry: the wizard is closed
    assert len(env.start_requests()) == 1


async def test_time_passed_on_the_summary_is_checked_on_confirm(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(IN_15_MIN)
    await u.press(SKIP)
    await u.press(SKIP)
    assert SUMMARY in text(u)
    env.clock_offset = timedelta(minutes=20)  # the summary waited 20 minutes
    await u.press(CONFIRM)
    assert ASK_TIME in text(u) and "уже прошло" in text(u)
    assert env.start_requests() == [] and await env.consultations() == []
    await u.press(NOW_ONLY)
    assert SUMMARY in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 1


async def test_audit_entry_for_a_start(env: Env) -> None:
    await _started_once(env)
    (record,) = await env.consultations()
    assert [(a.actor_id, a.action, a.target) for a in await _audit(env)] == [
        (COORDINATOR_ID, "consultation_started", f"consultation:{record.id}")
    ]


async def test_audit_entry_for_a_lost_answer_found_at_once(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault("start", "drop")
    await u.press(CONFIRM)
    await u.send_text("/help")
    (record,) = await env.consultations()
    assert record.state is ConsultationState.ACTIVE
    assert [(a.action, a.target) for a in await _audit(env)] == [
        ("consultation_started", f"consultation:{record.id}")
    ]


async def test_double_confirm_in_one_batch_handled_concurrently(env: Env) -> None:
    u = env.user()
    await to_summary(u)  # sequential polling: the fake's wait_handled is exact only so
    summary = u.last_bot_message()
    env.handle_as_tasks = True  # now the updates of one batch run at the same time
    await env.restart()
    (button,) = [b for b in summary.buttons if b.text == CONFIRM]
    queries = [
        env.tg.new_callback_query(u.id, summary, button.callback_data or "") for _ in range(2)
    ]
    await env.tg.enqueue(
        *(
            (
                "callback_query",
                {
                    "id": q.id,
                    "from": q.from_user.to_dict(),
                    "message": summary.to_dict(),
                    "chat_instance": f"ci{u.id}",
                    "data": q.data,
                },
            )
            for q in queries
        )
    )
    await env.tg.wait_for(lambda: all(q.answered for q in queries), timeout=10)
    await env.tg.wait_for(
        lambda: any("Зарегистрирована" in m.content for m in u.bot_messages()), timeout=10
    )
    assert len(env.tg.delivered_batches[-1]) == 2  # both presses came in one getUpdates
    assert len(env.start_requests()) == 1
    assert len(await env.consultations()) == 1


# ---------------------------------------------------------------- paths


async def test_change_phone_after_a_warning_keeps_the_phone(env: Env) -> None:
    await _started_once(env)
    u = env.user()
    await to_summary(u, phone=OTHER_PHONE)
    await u.press(EDIT)
    await u.press("Телефон")
    await u.send_text(PHONE)  # this one has an active consultation
    assert WARNING in text(u)
    await u.press(CHANGE_PHONE)
    assert ASK_PHONE in text(u)
    await u.press(BACK)
    assert SUMMARY in text(u) and OTHER_PHONE in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 2
    remote = max(env.sandbox.callbacks.values(), key=lambda r: r.created_at)
    assert remote.phone == ("7", "9161234567")


async def test_now_only_keeps_a_prefilled_duration(env: Env) -> None:
    env.test_routers.append(_repeat_router)
    await env.restart()
    u = env.user()
    await u.send_command("repeat")
    await u.press(NOW_ONLY)
    assert SUMMARY in text(u) and "30 мин" in text(u)
    await u.press(CONFIRM)
    (remote,) = env.sandbox.callbacks.values()
    assert remote.duration_min == 30


async def test_now_only_in_edit_keeps_duration_and_attachment(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(NOW)
    await u.send_text("45")
    await u.send_document(b"data", filename="a.pdf", mime="application/pdf")
    assert SUMMARY in text(u)
    await u.press(EDIT)
    await u.press("Время начала")
    await u.press(NOW_ONLY)
    summary = text(u)
    assert SUMMARY in summary and "45 мин" in summary and "a.pdf" in summary


async def test_doctor_step_has_back_when_editing(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    assert BACK not in u.buttons()  # the first step of a new wizard
    await u.press(CANCEL)
    await to_summary(u)
    await u.press(EDIT)
    await u.press("Врач")
    assert ASK_DOCTOR in text(u) and BACK in u.buttons()
    await u.press(BACK)
    assert SUMMARY in text(u) and "Иванова" in text(u)


async def test_doctor_step_has_back_after_a_404(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault(
        "start", "error", status=404, type="not_found", value="doctor", description="No doctor."
    )
    await u.press(CONFIRM)
    assert ASK_DOCTOR in text(u)
    await u.press(BACK)
    assert SUMMARY in text(u)


# ---------------------------------------------------------------- texts


async def test_time_step_has_one_quick_button_and_says_what_it_skips(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    buttons = u.buttons()
    assert buttons[:2] == [NOW_ONLY, NOW]
    assert "⚡ Сейчас, больше ничего" not in buttons and "Сейчас" not in buttons
    assert "пропускаются" in text(u) and "По умолчанию" not in text(u)
    await u.press(IN_15_MIN)
    await u.press(BACK)
    assert "Выбрано:" in text(u) and "Сейчас выбрано" not in text(u)


@pytest.mark.parametrize("today", FIXED_TODAYS)
async def test_calendar_speaks_russian(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(PICK_DATE)
    buttons = u.buttons()
    months = "Январь Февраль Март Апрель Май Июнь Июль Август Сентябрь Октябрь Ноябрь Декабрь"
    today = env.now().astimezone(MSK).date()
    title = f"{months.split()[today.month - 1]} {today.year}"
    assert any(title in b for b in buttons), buttons
    assert [
        b for b in buttons if b in ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
    ] == ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"]
    shown = " ".join(buttons)
    assert "🔍" not in shown and "·" not in shown and "Mon" not in shown
    assert not any(m in shown for m in ("January", "November", "December"))


async def test_start_conflict_has_its_own_sentence(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    env.sandbox.inject_fault("start", "error", status=409, type="conflict", value="doctor")
    await u.press(CONFIRM)
    assert "Врач сейчас не принимает обратные звонки" in text(u)
    assert "в текущем состоянии консультации" not in text(u)


async def test_unavailable_doctor_marked_on_phone_step_and_summary(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press("⛔ Соколов Игорь Михайлович · Эндокринолог")
    assert ASK_PHONE in text(u) and "⛔ Звонки к этому врачу сейчас недоступны" in text(u)
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press(NOW_ONLY)
    assert SUMMARY in text(u) and "⛔ Звонки к этому врачу сейчас недоступны" in text(u)


async def test_pasted_phone_with_marks_and_name_instruction(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_text("\u202a+7 909 970-85-93\u202c")
    assert "Напишите ФИО пациента полностью" in text(u)
    assert "+7 909 970-85-93" in text(u)
