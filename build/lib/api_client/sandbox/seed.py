"""Fixed data of the emulator: doctors, patient names, status names, report texts.

Everything here is plain JSON-ready dicts built by hand, independent of `api_client.models`,
so the emulator can test the parser rather than mirror it.
"""

from __future__ import annotations

import random
from typing import Any

JSON = dict[str, Any]

STATUS_ORDER: tuple[str, ...] = (
    "Registered",
    "PreProcessing",
    "Delayed",
    "Processing",
    "PostProcessing",
    "Processed",
    "Unsuccessful",
)
STATUS_NUMBER: dict[str, int] = {s: i + 1 for i, s in enumerate(STATUS_ORDER)}
STATUS_NAMES: dict[str, str] = {
    "Registered": "Зарегистрирована",
    "PreProcessing": "Подготовка",
    "Delayed": "Отложена",
    "Processing": "В работе",
    "PostProcessing": "Завершение",
    "Processed": "Завершена",
    "Unsuccessful": "Не состоялась",
}
FINAL_STATUSES = frozenset({"Processed", "Unsuccessful"})

ACTOR_NAMES: dict[str, str] = {"System": "Система", "Doctor": "Врач", "Patient": "Пациент"}

CURRENCY_RUB: JSON = {"id": "RUB", "name": "Рубль"}

CONSULTATION_TYPE_NAMES: dict[str, str] = {
    "Callback": "Обратный звонок",
    "Writing": "Переписка",
    "Voip": "Аудиозвонок",
    "Video": "Видеозвонок",
}

SPECIALTIES: tuple[tuple[int, str], ...] = (
    (1, "Терапевт"),
    (2, "Педиатр"),
    (3, "Кардиолог"),
    (4, "Невролог"),
    (5, "Дерматолог"),
    (6, "Эндокринолог"),
    (7, "Гастроэнтеролог"),
    (8, "Оториноларинголог"),
    (9, "Психотерапевт"),
    (10, "Гинеколог"),
)

# (lastName, firstName, middleName, specialty ids, cost per minute in RUB)
_DOCTORS: tuple[tuple[str, str, str, tuple[int, ...], int], ...] = (
    ("Иванова", "Мария", "Петровна", (1,), 40),
    ("Смирнов", "Алексей", "Викторович", (3, 1), 70),
    ("Кузнецова", "Елена", "Сергеевна", (2,), 45),
    ("Попов", "Дмитрий", "Андреевич", (4,), 60),
    ("Васильева", "Ольга", "Николаевна", (5,), 50),
    ("Соколов", "Игорь", "Михайлович", (6,), 65),
    ("Михайлова", "Анна", "Владимировна", (7, 1), 55),
    ("Новиков", "Сергей", "Александрович", (8,), 50),
    ("Фёдорова", "Татьяна", "Игоревна", (9,), 80),
    ("Морозов", "Андрей", "Павлович", (1, 2), 40),
    ("Волкова", "Наталья", "Дмитриевна", (10,), 60),
    ("Алексеев", "Павел", "Юрьевич", (3,), 75),
    ("Лебедева", "Ирина", "Олеговна", (4, 9), 70),
    ("Семёнов", "Николай", "Евгеньевич", (1,), 35),
)

FIRST_DOCTOR_ID = 101
# A doctor whose Callback type is temporarily not available (start → 400 limit_exceeded).
UNAVAILABLE_DOCTOR_ID = 105
# A doctor whose Callback type is switched off (start → 409 conflict).
DISABLED_DOCTOR_ID = 106
# A doctor who writes very long conclusions (> 5000 characters), for message-splitting tests.
LONG_REPORT_DOCTOR_ID = 104

_REGIONS: tuple[JSON, ...] = (
    {"id": 77, "name": "Москва"},
    {"id": 78, "name": "Санкт-Петербург"},
    {"id": 54, "name": "Новосибирская область"},
)
_DEGREES: tuple[JSON, ...] = (
    {"id": 1, "name": "Без степени"},
    {"id": 2, "name": "Кандидат медицинских наук"},
    {"id": 3, "name": "Доктор медицинских наук"},
)
_POSITIONS: tuple[JSON, ...] = (
    {"id": 1, "name": "Врач"},
    {"id": 2, "name": "Заведующий отделением"},
)


def _money(amount: float) -> JSON:
    return {"amount": amount, "currency": dict(CURRENCY_RUB)}


def build_doctors() -> dict[int, JSON]:
    """The seeded doctors, keyed by id (101, 102, …)."""
    specialty_names = dict(SPECIALTIES)
    doctors: dict[int, JSON] = {}
    for index, (last, first, middle, specialty_ids, cost) in enumerate(_DOCTORS):
        doctor_id = FIRST_DOCTOR_ID + index
        consultation_types: list[JSON] = [
            {
                "id": doctor_id * 10 + 1,
                "type": {"id": "Callback", "name": CONSULTATION_TYPE_NAMES["Callback"]},
                "cost": _money(cost),
                "isAvailable": doctor_id != UNAVAILABLE_DOCTOR_ID,
                "isDisabled": doctor_id == DISABLED_DOCTOR_ID,
            },
            {
                "id": doctor_id * 10 + 2,
                "type": {"id": "Writing", "name": CONSULTATION_TYPE_NAMES["Writing"]},
                "cost": _money(cost * 10),
                "isAvailable": True,
                "isDisabled": False,
            },
        ]
        if index % 3 == 0:
            consultation_types.append(
                {
                    "id": doctor_id * 10 + 3,
                    "type": {"id": "Video", "name": CONSULTATION_TYPE_NAMES["Video"]},
                    "cost": _money(cost * 2),
                    "isAvailable": True,
                    "isDisabled": False,
                }
            )
        doctors[doctor_id] = {
            "id": doctor_id,
            "lastName": last,
            "firstName": first,
            "middleName": middle,
            "avatarUrl": f"https://static.example.invalid/avatars/{doctor_id}.jpg",
            "birthDate": f"{1960 + index * 2}-0{1 + index % 9}-1{index % 10}T00:00:00",
            "region": dict(_REGIONS[index % len(_REGIONS)]),
            "degree": dict(_DEGREES[index % len(_DEGREES)]),
            "position": dict(_POSITIONS[index % len(_POSITIONS)]),
            "specialties": [{"id": s, "name": specialty_names[s]} for s in specialty_ids],
            "consultationTypes": consultation_types,
        }
    return doctors


def doctor_full_name(doctor: JSON) -> str:
    parts = (doctor.get("lastName"), doctor.get("firstName"), doctor.get("middleName"))
    return " ".join(p for p in parts if p)


def callback_type(doctor: JSON) -> JSON | None:
    for ct in doctor.get("consultationTypes") or ():
        if (ct.get("type") or {}).get("id") == "Callback":
            return ct  # type: ignore[no-any-return]
    return None


_MALE_FIRST = ("Александр", "Михаил", "Иван", "Артём", "Максим", "Егор", "Кирилл", "Роман")
_FEMALE_FIRST = ("Анастасия", "Дарья", "Екатерина", "Полина", "Ксения", "Вера", "Софья", "Юлия")
_MALE_LAST = ("Орлов", "Зайцев", "Козлов", "Белов", "Тарасов", "Григорьев", "Комаров", "Жуков")
_MIDDLE_M = ("Иванович", "Сергеевич", "Олегович", "Петрович")
_MIDDLE_F = ("Ивановна", "Сергеевна", "Олеговна", "Петровна")


def patient_name(rng: random.Random) -> str:
    last = rng.choice(_MALE_LAST)
    if rng.random() < 0.5:
        return f"{last} {rng.choice(_MALE_FIRST)} {rng.choice(_MIDDLE_M)}"
    return f"{last}а {rng.choice(_FEMALE_FIRST)} {rng.choice(_MIDDLE_F)}"


def patient_phone(rng: random.Random) -> tuple[str, str]:
    return "7", "9" + "".join(str(rng.randrange(10)) for _ in range(9))


_SHORT_REPORTS = (
    "ОРВИ, лёгкое течение. Рекомендованы обильное питьё, парацетамол при температуре выше "
    "38,5 °C. Повторная консультация при ухудшении.",
    "Жалобы на головную боль напряжения. Рекомендованы режим сна, прогулки, ибупрофен по "
    "необходимости. Очный приём невролога при сохранении жалоб более двух недель.",
    "Аллергический дерматит. Исключить контакт с аллергеном, цетиризин 10 мг на ночь 7 дней, "
    "увлажняющий крем. Контроль через неделю.",
    "Состояние удовлетворительное. Рекомендован общий анализ крови и ЭКГ, очный приём "
    "терапевта по результатам.",
)

_LONG_PARAGRAPH = (
    "Пациент предъявляет жалобы на периодические головокружения, слабость и учащённое "
    "сердцебиение, возникающие преимущественно во второй половине дня и после физической "
    "нагрузки. Со слов пациента, симптомы беспокоят в течение трёх недель, ранее подобного не "
    "отмечал. Хронические заболевания отрицает, постоянно лекарственные препараты не "
    "принимает, аллергологический анамнез не отягощён. "
)


def short_report(rng: random.Random) -> str:
    return rng.choice(_SHORT_REPORTS)


def long_report() -> str:
    """A conclusion longer than 5000 characters (Telegram's limit is 4096 per message)."""
    sections = [f"Раздел {i}. {_LONG_PARAGRAPH * 2}" for i in range(1, 8)]
    text = "Заключение врача.\n\n" + "\n\n".join(sections)
    text += "\n\nРекомендации: контроль артериального давления утром и вечером, ЭКГ, общий и "
    text += "биохимический анализ крови, очный приём кардиолога в течение двух недель."
    return text
