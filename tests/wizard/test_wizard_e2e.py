"""The /start_callback wizard end to end: fake Telegram over HTTP, real dispatcher, the
sandbox partner API over HTTP, SQLite."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.enums import ConsultationState, EventSource
from tests.fixed_days import FIXED_TODAYS
from tests.wizard.conftest import (
    COORDINATOR_ID,
    EN_COORDINATOR_ID,
    NSK_COORDINATOR_ID,
    Env,
)
from tests.wizard.helpers import (
    ASK_ATTACHMENT,
    ASK_DOCTOR,
    ASK_DURATION,
    ASK_EDIT,
    ASK_NAME,
    ASK_PHONE,
    ASK_TIME,
    BACK,
    CALENDAR_MONTHS,
    CANCEL,
    CHANGE_PHONE,
    CONFIRM,
    CONTINUE,
    DOCTOR_101,
    DOCTOR_102,
    EDIT,
    IN_1_HOUR,
    NAME,
    NOW,
    NOW_ONLY,
    PHONE,
    PHONE_E164,
    PICK_DATE,
    SKIP,
    SUMMARY,
    TOMORROW_9,
    day_number,
    local_tomorrow,
    text,
    to_summary,
    to_time_step,
)

MSK = ZoneInfo("Europe/Moscow")
NSK = ZoneInfo("Asia/Novosibirsk")


async def test_short_path_is_five_actions(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)  # 1
    await u.send_text(PHONE)  # 2
    await u.send_text(NAME)  # 3
    await u.press(NOW_ONLY)  # 4
    summary = text(u)
    assert "Иванова Мария Петровна" in summary and "40 RUB" in summary
    assert "+7 909 970-85-93" in summary and NAME in summary and "сейчас" in summary
    await u.press(CONFIRM)  # 5

    assert len(env.start_requests()) == 1
    (remote,) = env.sandbox.callbacks.values()
    assert remote.doctor_id == 101
    assert remote.phone == ("7", "9099708593")
    assert remote.patient_name == NAME
    assert remote.begin_at is None and remote.duration_min is None

    (record,) = await env.consultations()
    assert record.state is ConsultationState.ACTIVE
    assert record.partner_id == remote.id
    assert record.coordinator_id == COORDINATOR_ID
    assert record.patient_phone == PHONE_E164
    # The notification URL carries the plain token; the database only its sha256.
    assert remote.notification_url is not None
    prefix = f"{env.settings.public_url}/hooks/callback/"
    assert remote.notification_url.startswith(prefix)
    token = remote.notification_url.removeprefix(prefix)
    assert len(token) >= 32
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    (event,) = await env.events(record.id)
    assert event.status == "Registered" and event.source is EventSource.START

    card = u.last_bot_message()
    assert card.message_id == record.card_message_id and record.card_chat_id == u.id
    assert "Зарегистрирована" in card.content and NAME in card.content
    assert "+7 909 970-85-93" in card.content
    assert card.button_texts == ["🔄 Обновить", "⛔ Прервать"]
    assert not env.tg.unanswered_queries()


@pytest.mark.parametrize("today", FIXED_TODAYS)
@pytest.mark.parametrize(
    ("user_id", "tz"), [(COORDINATOR_ID, MSK), (NSK_COORDINATOR_ID, NSK)], ids=["msk", "nsk"]
)
async def test_full_path_with_attachment(env: Env, user_id: int, tz: ZoneInfo) -> None:
    u = env.user(user_id)
    content = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF"
    await to_time_step(u)
    await u.send_text("завтра 10:00")
    assert ASK_DURATION in text(u)
    await u.send_text("1:30")
    assert ASK_ATTACHMENT in text(u)
    await u.send_document(content, filename="анализы.pdf", mime="application/pdf")
    summary = text(u)
    assert "анализы.pdf" in summary and "90 мин" in summary
    zone = "МСК" if tz is MSK else "UTC+7"
    # Tomorrow by the wizard's clock in the coordinator's zone; the year only when it is
    # not this year there (31 Dec in Moscow: next year; in Novosibirsk already 1 Jan).
    local_now = env.now().astimezone(tz)
    tomorrow = local_now.date() + timedelta(days=1)
    shown = tomorrow.strftime("%d.%m" if tomorrow.year == local_now.year else "%d.%m.%Y")
    assert f"{shown} 10:00 {zone}" in summary, summary
    await u.press(CONFIRM)

    (remote,) = env.sandbox.callbacks.values()
    assert env.sandbox.received_attachments[remote.id] == (
        "анализы.pdf",
        "application/pdf",
        content,
    )
    expected = local_tomorrow(tz, 10, 0, env.now())
    assert remote.begin_at == expected  # the time the coordinator meant, in their zone
    assert remote.duration_min == 90
    (record,) = await env.consultations()
    assert record.begin_at == expected and record.attachment_name == "анализы.pdf"
    assert (u.id, "upload_document") in env.tg.state.chat_actions
    card = u.last_bot_message().content
    assert "анализы.pdf" in card and f"10:00 {zone}" in card


async def test_photo_attachment_is_byte_identical(env: Env) -> None:
    u = env.user()
    photo = b"\xff\xd8\xff\xe0" + b"\x01\x02" * 500
    await to_time_step(u)
    await u.press(NOW)
    await u.press(SKIP)
    await u.send_photo(photo)
    assert "фото.jpg" in text(u)
    await u.press(CONFIRM)
    (remote,) = env.sandbox.callbacks.values()
    assert env.sandbox.received_attachments[remote.id] == ("фото.jpg", "image/jpeg", photo)


async def test_oversize_file_refused_without_download(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(NOW)
    await u.press(SKIP)
    await u.send_document(b"", filename="scan.pdf", declared_size=30 * 1024 * 1024)
    answer = text(u)
    assert "30.0 МБ" in answer and "10 МБ" in answer
    assert ASK_ATTACHMENT in answer  # the step is asked again
    assert env.tg.calls("getFile") == []
    await u.send_document(b"small", filename="ok.pdf")
    assert SUMMARY in text(u) and "ok.pdf" in text(u)


async def test_album_gets_one_answer_and_no_stray_input(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(NOW)
    await u.press(SKIP)
    before = len(u.bot_messages())
    await u.send_album([b"\xff\xd8one", b"\xff\xd8two", b"\xff\xd8three"])
    replies = u.bot_messages()[before:]
    assert len(replies) == 1
    assert "один файл, или один PDF" in replies[0].content
    assert ASK_ATTACHMENT in replies[0].content
    await u.press(SKIP)
    assert SUMMARY in text(u) and "Вложение: нет" in text(u)
    assert env.tg.calls("getFile") == []


async def test_repeated_phone_warns(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    await u.press(CONFIRM)
    (first,) = await env.consultations()

    await u.send_command("start_callback")
    await u.press(DOCTOR_102)
    await u.send_text("8 (909) 970 85 93")  # the same phone in another form
    warning = text(u)
    sid = (first.partner_id or "").split("-")[0][:8]
    assert "уже есть консультация" in warning and f"консультация {sid}:" in warning
    assert "Иванова Мария Петровна" in warning and "Начало: сейчас" in warning
    assert f"№{first.id}" not in warning
    assert u.buttons() == [f"📄 Открыть карточку {sid}", CONTINUE, CHANGE_PHONE, CANCEL]
    await u.press(f"📄 Открыть карточку {sid}")
    card, again = u.bot_messages()[-2:]
    assert card.content.startswith(f"Консультация {sid}") and "Зарегистрирована" in card.content
    assert card.button_texts == ["🔄 Обновить", "⛔ Прервать"]
    assert "уже есть консультация" in again.content  # the warning again, below the card
    await u.press(CHANGE_PHONE)
    assert ASK_PHONE in text(u)
    await u.send_text("9099708593")
    await u.press(CONTINUE)
    assert ASK_NAME in text(u)


async def test_contact_card_phone(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_contact("79099708593", "Пётр")
    assert ASK_NAME in text(u) and "+7 909 970-85-93" in text(u)


@pytest.mark.parametrize("today", FIXED_TODAYS)
async def test_bad_input_on_every_step(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.send_text("терапевт")
    assert "Номер врача — это число" in text(u) and ASK_DOCTOR in text(u)
    await u.send_text("999")
    assert "Врача с номером 999 нет" in text(u) and ASK_DOCTOR in text(u)
    await u.send_text("101")  # a typed id, checked by the API lookup
    assert ASK_PHONE in text(u) and "Иванова Мария Петровна" in text(u)

    for bad, expected in [
        ("123", "слишком мало цифр"),
        ("Иван", "не похоже на телефон"),
        ("+7 000 000 00 00", "Такого номера не существует"),
    ]:
        await u.send_text(bad)
        assert expected in text(u) and ASK_PHONE in text(u)
    await u.send_photo(b"\xff\xd8x")
    assert "ответ кнопкой или текстом" in text(u)
    await u.send_text(PHONE)

    for bad, expected in [
        ("И", "слишком короткое"),
        ("Иванов 2", "недопустим символ «2»"),
        ("<b>x</b>", "недопустим символ «<»"),
    ]:
        await u.send_text(bad)
        assert expected in text(u) and ASK_NAME in text(u)
    await u.send_text(NAME)

    for bad, expected in [
        ("2020-01-01 10:00", "уже прошло"),
        ("сегодня 00:00", "уже прошло сегодня; напишите «завтра 00:00»"),
        ("25:00", "Не понимаю время"),
        ("завтра", "Не хватает часов и минут"),
        ("через 2000 ч", "не дальше чем на 60 дней"),
        ("31.02 10:00", "Такой даты нет"),
    ]:
        await u.send_text(bad)
        assert expected in text(u), (bad, text(u))
        assert ASK_TIME in text(u)
    await u.press(NOW)

    for bad, expected in [
        ("полчаса", "от 5 до 180"),
        ("500", "не больше 180"),
        ("2", "не меньше 5"),
    ]:
        await u.send_text(bad)
        assert expected in text(u) and ASK_DURATION in text(u)
    await u.send_text("45 мин")

    await u.send_text("вот файл")
    assert "нужен документ или фото" in text(u) and ASK_ATTACHMENT in text(u)
    await u.press(SKIP)
    summary = text(u)
    assert SUMMARY in summary and "45 мин" in summary
    await u.send_text("да")
    assert "ответ кнопкой или текстом" in text(u) and SUMMARY in text(u)


async def test_back_from_every_step(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(NOW)
    await u.press(SKIP)
    assert ASK_ATTACHMENT in text(u)
    await u.press(SKIP)
    assert SUMMARY in text(u)
    for expected in (ASK_ATTACHMENT, ASK_DURATION, ASK_TIME, ASK_NAME, ASK_PHONE, ASK_DOCTOR):
        await u.press(BACK)
        assert expected in text(u), (expected, text(u))
    # Going forward again keeps what was entered.
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press(NOW_ONLY)
    assert NAME in text(u)


@pytest.mark.parametrize("today", FIXED_TODAYS)
async def test_skip_paths(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(IN_1_HOUR)
    await u.press(SKIP)  # duration
    await u.press(SKIP)  # attachment
    summary = text(u)
    assert "без ограничения" in summary and "Вложение: нет" in summary
    await u.press(CONFIRM)
    (remote,) = env.sandbox.callbacks.values()
    assert remote.duration_min is None
    assert remote.begin_at is not None
    assert timedelta(minutes=59) <= remote.begin_at - env.now() <= timedelta(minutes=61)


@pytest.mark.parametrize("today", FIXED_TODAYS)
async def test_edit_each_field_returns_to_summary(env: Env) -> None:
    u = env.user()
    await to_summary(u)

    await u.press(EDIT)
    assert ASK_EDIT in text(u)
    await u.press("Врач")
    await u.press(DOCTOR_102)
    assert SUMMARY in text(u) and "Смирнов" in text(u) and "70 RUB" in text(u)

    await u.press(EDIT)
    await u.press("Телефон")
    await u.send_text("+44 20 7946 0958")
    assert SUMMARY in text(u) and "+44 20 7946 0958" in text(u)

    await u.press(EDIT)
    await u.press("ФИО")
    await u.send_text("O'Brien Sean")
    assert SUMMARY in text(u) and "O&#x27;Brien" not in text(u) and "O'Brien Sean" in text(u)

    await u.press(EDIT)
    await u.press("Время начала")
    await u.press(TOMORROW_9)
    assert SUMMARY in text(u) and "09:00 МСК" in text(u)

    await u.press(EDIT)
    await u.press("Длительность")
    await u.press("30 мин")
    assert SUMMARY in text(u) and "30 мин" in text(u)

    await u.press(EDIT)
    await u.press("Вложение")
    await u.send_document(b"data", filename="a.txt", mime="text/plain")
    assert SUMMARY in text(u) and "a.txt" in text(u)

    # Back while editing: to the summary, nothing changed.
    await u.press(EDIT)
    await u.press("Длительность")
    await u.press(BACK)
    assert SUMMARY in text(u) and "30 мин" in text(u)
    await u.press(EDIT)
    await u.press(BACK)
    assert SUMMARY in text(u)

    await u.press(CONFIRM)
    (remote,) = env.sandbox.callbacks.values()
    assert remote.doctor_id == 102 and remote.phone == ("44", "2079460958")
    assert remote.patient_name == "O'Brien Sean" and remote.duration_min == 30
    assert remote.begin_at == local_tomorrow(MSK, 9, 0, env.now())
    assert env.sandbox.received_attachments[remote.id][2] == b"data"


@pytest.mark.parametrize("today", FIXED_TODAYS)
async def test_calendar_and_time_select(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(PICK_DATE)
    today = env.now().astimezone(MSK).date()
    calendar = u.last_bot_message()
    # Today's month by the wizard's clock (in Moscow, not UTC), today marked and first.
    assert f"🗓 {CALENDAR_MONTHS[today.month - 1]} {today.year}" in calendar.button_texts
    days = {day_number(b.text): b.text for b in calendar.buttons if day_number(b.text)}
    assert min(days) == today.day, calendar.button_texts
    assert [day for day, label in days.items() if "[" in label] == [today.day], days

    target = today + timedelta(days=2)
    if target.month != today.month:
        # The next-month button, read from the keyboard ("Январь ▶").
        (forward,) = [b for b in calendar.button_texts if b.endswith("▶")]
        assert forward == f"{CALENDAR_MONTHS[target.month - 1]} ▶", calendar.button_texts
        await u.press(forward)
        calendar = u.last_bot_message()
        header = f"🗓 {CALENDAR_MONTHS[target.month - 1]} {target.year}"
        assert header in calendar.button_texts, calendar.button_texts
    (day_button,) = [b for b in calendar.buttons if day_number(b.text) == target.day]
    await u.press_data(day_button.callback_data or "", calendar.message_id)
    assert "Выберите час и минуты" in text(u) and target.strftime("%d.%m.%Y") in text(u)
    await u.press("14")
    await u.press("35")
    assert ASK_DURATION in text(u)
    await u.press(SKIP)
    await u.press(SKIP)
    assert f"{target.strftime('%d.%m')}" in text(u) and "14:35 МСК" in text(u)
    await u.press(CONFIRM)  # the sandbox judges "past" by the same clock
    (remote,) = env.sandbox.callbacks.values()
    assert remote.begin_at is not None
    assert remote.begin_at.astimezone(MSK).date() == target
    assert remote.begin_at.astimezone(MSK).strftime("%H:%M") == "14:35"


async def test_cancel_closes_the_wizard(env: Env) -> None:
    u = env.user()
    await to_time_step(u)
    await u.press(CANCEL)
    assert "Отменено" in text(u)
    assert await env.consultations() == []
    assert env.start_requests() == []


async def test_restart_mid_wizard_continues(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    assert ASK_NAME in text(u)
    await env.restart()
    await u.send_text(NAME)
    assert ASK_TIME in text(u)
    await u.press(NOW_ONLY)
    assert "Иванова Мария Петровна" in text(u) and "+7 909 970-85-93" in text(u)
    await u.press(CONFIRM)
    assert len(env.start_requests()) == 1


async def test_double_confirm_starts_one(env: Env) -> None:
    u = env.user()
    await to_summary(u)
    summary = u.last_bot_message()
    first = await u.press(CONFIRM, summary, wait=False)
    second = await u.press(CONFIRM, summary, wait=False)
    await u.send_text("/help")  # handled strictly after both presses (sequential polling)
    assert len(env.start_requests()) == 1
    assert len(await env.consultations()) == 1
    assert first.answered and second.answered


async def test_english_coordinator(env: Env) -> None:
    u = env.user(EN_COORDINATOR_ID, language_code="en")
    await u.send_command("start_callback")
    assert "Step 1: the doctor" in text(u)
    await u.press(DOCTOR_101)
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press("⚡ Now → to confirmation")
    assert "Check and confirm" in text(u) and "Cost: 40 RUB per minute" in text(u)


async def test_doctor_directory_marks_unavailable(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    buttons = u.buttons()
    assert "⛔ Васильева Ольга Николаевна · Дерматолог" in buttons
    assert "⛔ Соколов Игорь Михайлович · Эндокринолог" in buttons
    assert "звонки к этому врачу сейчас недоступны" in text(u)
    assert u.buttons()[-4:] == ["◀", "1/3", "▶", CANCEL]
    await u.press("▶")  # the second page of the directory
    assert "2/3" in u.buttons()
    assert any("Гастроэнтеролог" in b for b in u.buttons())
    assert not any(b.rsplit(" · ", 1)[-1] == "Терапевт" and "Иванова" in b for b in u.buttons())


@pytest.mark.parametrize("doctor_routes", [False], ids=["no-doctor-routes"])
async def test_typed_id_without_doctor_routes(env: Env) -> None:
    u = env.user()
    await u.send_command("start_callback")
    assert "Напишите номер (id) врача" in text(u)
    await u.send_text("103")
    assert "имя врача станет известно при запуске" in text(u) and ASK_PHONE in text(u)
    await u.send_text(PHONE)
    await u.send_text(NAME)
    await u.press(NOW_ONLY)
    assert "Врач №103" in text(u)
    await u.press(CONFIRM)
    (record,) = await env.consultations()
    assert record.state is ConsultationState.ACTIVE
    assert record.doctor_name  # named by the start answer


async def test_the_card_is_protected_from_forwarding(env: Env) -> None:
    """The card carries the patient's name and phone: sent with protect_content."""
    u = env.user()
    await to_summary(u)
    await u.press(CONFIRM)
    (record,) = await env.consultations()
    assert record.card_message_id is not None
    cards = [
        c.params for c in env.tg.calls("sendMessage")
        if "+7 909 970-85-93" in str(c.params.get("text"))
    ]
    assert cards and all(p.get("protect_content") in (True, "true") for p in cards), cards
