"""Button labels and short walks through the wizard (Russian texts)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.fake_telegram import FakeUser

DOCTOR_101 = "Иванова Мария Петровна · Терапевт"
DOCTOR_102 = "Смирнов Алексей Викторович · Кардиолог"
BACK = "◀ Назад"
CANCEL = "✖ Отмена"
SKIP = "Пропустить ▶"
NOW = "Сейчас, затем длительность"
NOW_ONLY = "⚡ Сейчас → к подтверждению"
IN_15_MIN = "Через 15 мин"
IN_1_HOUR = "Через 1 час"
TOMORROW_9 = "Завтра 09:00"
PICK_DATE = "📅 Выбрать дату"
CONFIRM = "✅ Подтвердить"
EDIT = "✏ Изменить"
CONTINUE = "Всё равно продолжить"
CHANGE_PHONE = "Изменить телефон"
WARNING = "уже есть консультация"

PHONE = "+7 909 970-85-93"
PHONE_E164 = "+79099708593"
NAME = "Петров Пётр Иванович"

ASK_DOCTOR = "Шаг 1: врач"
ASK_PHONE = "Шаг 2: телефон пациента"
ASK_NAME = "Шаг 3: ФИО пациента"
ASK_TIME = "Шаг 4: когда начать?"
ASK_DURATION = "Шаг 5: максимальная длительность"
ASK_ATTACHMENT = "Шаг 6: вложение"
SUMMARY = "Проверьте и подтвердите"
ASK_EDIT = "Что изменить?"


def text(user: FakeUser) -> str:
    return user.last_bot_message().content


async def to_time_step(
    user: FakeUser, *, doctor: str = DOCTOR_101, phone: str = PHONE, name: str = NAME
) -> None:
    await user.send_command("start_callback")
    await user.press(doctor)
    await user.send_text(phone)
    await user.send_text(name)
    assert ASK_TIME in text(user), text(user)


async def to_summary(user: FakeUser, **kw: str) -> None:
    await to_time_step(user, **kw)
    await user.press(NOW_ONLY)
    assert SUMMARY in text(user), text(user)


def local_tomorrow(tz: ZoneInfo, hh: int, mm: int, now: datetime) -> datetime:
    """hh:mm tomorrow in ``tz`` (tomorrow by ``now``, the test's clock), in UTC."""
    today = now.astimezone(tz).date()
    local = datetime.combine(today + timedelta(days=1), time(hh, mm), tzinfo=tz)
    return local.astimezone(UTC)


CALENDAR_MONTHS = (
    "Январь", "Февраль", "Март", "Апрель", "Май", "Июнь",
    "Июль", "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь",
)  # fmt: skip


def day_number(button_text: str) -> int | None:
    """The day a calendar button stands for, whatever its format ("5", "05", "[ 05 ]");
    None for any other button."""
    digits = button_text.strip("[]* \u2800")
    return int(digits) if digits.isdigit() and len(digits) <= 2 else None
