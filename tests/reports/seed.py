"""A seeded month of consultations with known calls and costs (May 2026, Moscow), at the
sandbox and in the local copy — for the /report tests and the README's sample chart
(``python -m tests.reports.sample_chart``).

Every figure a report shows is computed here from the specs alone (``expected``), not by
the code under test: outcome, calls, billed minutes (each started minute), cost at the
doctor's price in the sandbox's directory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.models import Callback
from api_client.sandbox.records import CallbackRecord, CallEntry, StatusEntry, TimelineEntry, new_id
from api_client.sandbox.seed import callback_type, doctor_full_name
from storage.enums import ConsultationState, EventSource
from storage.hashing import new_secret
from storage.models import Consultation
from storage.repositories import ConsultationRepository, StatusEventRepository

MSK = ZoneInfo("Europe/Moscow")
# "Today" of the tests: 10 June 2026, 12:00 Moscow. "Last month" is May.
TODAY = datetime(2026, 6, 10, 12, 0, tzinfo=MSK)
COORDINATOR_ID = 2001
RU_COORDINATOR_ID = 2002
DOCTOR_ACCOUNT_ID = 3001
DOCTOR_ID = 101  # the doctor account's doctor: 40 RUB a minute
USD_DOCTOR_ID = 114  # priced in USD in the tests (2.50 a minute)
DOCTORS = (101, 102, 103)
MISSING_PARTNER_ID = "deadbeef-0000-4000-8000-000000000000"  # not at the sandbox


@dataclass(frozen=True)
class Spec:
    n: int
    created: datetime  # aware UTC
    doctor_id: int
    kind: str  # reached / unsuccessful / terminated / in_progress / missing
    talk: tuple[int, ...] = ()  # durations of the successful calls, seconds
    failed_calls: int = 0  # unsuccessful calls (0 s) before
    coordinator_id: int | None = COORDINATOR_ID
    external: bool = False

    @property
    def calls(self) -> int:
        return len(self.talk) + self.failed_calls

    @property
    def minutes(self) -> int:
        seconds = sum(self.talk)
        return -(-seconds // 60) if seconds else 0

    @property
    def patient(self) -> str:
        return f"Пациентов Тест {self.n}"

    @property
    def phone(self) -> str:
        return f"+7916555{self.n:04d}"


def month_specs() -> list[Spec]:
    """May 2026: two a day (62), in every outcome; one in USD, one started elsewhere, two
    still in progress, one whose data the partner never gives; and three in June."""
    specs: list[Spec] = []
    for i in range(62):
        day = 1 + i // 2
        created = datetime(2026, 5, day, 9 + (i * 3) % 10, (i * 7) % 60, tzinfo=MSK)
        doctor = DOCTORS[i % 3]
        kind = ("reached", "reached", "reached", "unsuccessful", "terminated", "reached")[i % 6]
        talk: tuple[int, ...] = ()
        failed = 0
        if kind == "reached":
            talk = (61 + (i * 37) % 600,)
            failed = 1 if i % 6 == 5 else 0  # the patient missed the first call
        elif kind == "unsuccessful":
            failed = 1
        coordinator = COORDINATOR_ID if i % 4 else RU_COORDINATOR_ID
        specs.append(Spec(i, created.astimezone(UTC), doctor, kind, talk, failed, coordinator))
    may = datetime(2026, 5, 20, 15, 0, tzinfo=MSK).astimezone(UTC)
    specs += [
        Spec(62, may, USD_DOCTOR_ID, "reached", (300,)),
        Spec(63, may + timedelta(hours=1), DOCTOR_ID, "reached", (120,), 0, None, external=True),
        Spec(64, datetime(2026, 5, 31, 22, 30, tzinfo=MSK).astimezone(UTC), 102, "in_progress"),
        Spec(65, datetime(2026, 5, 31, 23, 40, tzinfo=MSK).astimezone(UTC), 101, "in_progress"),
        Spec(66, may + timedelta(hours=2), 103, "missing"),
        # 1 June 00:10 Moscow is still 31 May in UTC: the zone decides the month.
        Spec(67, datetime(2026, 6, 1, 0, 10, tzinfo=MSK).astimezone(UTC), 101, "reached", (90,)),
        Spec(
            68, datetime(2026, 6, 3, 10, 0, tzinfo=MSK).astimezone(UTC), 102, "unsuccessful", (), 1
        ),
        Spec(69, datetime(2026, 6, 9, 10, 0, tzinfo=MSK).astimezone(UTC), 103, "terminated"),
    ]
    return specs


def in_may(spec: Spec) -> bool:
    return spec.created.astimezone(MSK).month == 5


@dataclass
class Expected:
    started: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    minutes: int = 0
    spend: dict[str, int] = field(default_factory=dict)  # currency → cents


def price(doctor_id: int) -> tuple[int, str]:
    """(cents per minute, currency) as the tests' sandbox has them."""
    if doctor_id == USD_DOCTOR_ID:
        return 250, "USD"
    return {101: 4000, 102: 7000, 103: 4500}[doctor_id], "RUB"


def expected(specs: list[Spec]) -> Expected:
    out = Expected()
    for spec in specs:
        out.started += 1
        out.outcomes[spec.kind] += 1
        out.minutes += spec.minutes
        if spec.minutes:
            cents, currency = price(spec.doctor_id)
            out.spend[currency] = out.spend.get(currency, 0) + spec.minutes * cents
    return out


def price_usd_doctor(sandbox: Any) -> None:
    ctype = callback_type(sandbox.doctors[USD_DOCTOR_ID])
    assert ctype is not None
    ctype["cost"] = {"amount": 2.5, "currency": {"id": "USD", "name": "Доллар"}}


def _record(sandbox: Any, spec: Spec) -> CallbackRecord:
    at = spec.created
    record = CallbackRecord(
        id=new_id(),
        seq=sandbox._next_seq(),
        doctor_id=spec.doctor_id,
        phone=("7", spec.phone[2:]),
        patient_name=spec.patient,
        created_at=at,
    )
    path = {
        "reached": ("Registered", "PreProcessing", "Processing", "PostProcessing", "Processed"),
        "unsuccessful": ("Registered", "PreProcessing", "Processing", "Unsuccessful"),
        "terminated": ("Registered", "PreProcessing", "Unsuccessful"),
        "in_progress": ("Registered", "PreProcessing", "Processing"),
        "missing": ("Registered", "PreProcessing", "Processing", "PostProcessing", "Processed"),
    }[spec.kind]
    for k, status in enumerate(path):
        actor = "System"
        if status in ("Processing", "Processed"):
            actor = "Doctor"
        if status == "Unsuccessful" and spec.kind == "unsuccessful":
            actor = "Patient"
        record.statuses.append(StatusEntry(new_id(), status, actor, at + timedelta(minutes=k)))
    call_at = at + timedelta(minutes=2)
    for _ in range(spec.failed_calls):
        record.calls.append(CallEntry(new_id(), "Patient", 0, call_at, False))
        call_at += timedelta(minutes=1)
    for seconds in spec.talk:
        record.calls.append(CallEntry(new_id(), "Doctor", seconds, call_at, True))
    if spec.kind == "terminated":
        record.timeline.append(
            TimelineEntry(new_id(), "Terminated", "Прервана", at + timedelta(minutes=2))
        )
    return record


async def seed_month(
    sandbox: Any,
    session_factory: async_sessionmaker[AsyncSession],
    processor: Any,
    specs: list[Spec],
) -> dict[int, int]:
    """The specs at the sandbox and in the local copy; spec n → local id. Every other one
    already has its figures stored (a look through the status path, as the worker leaves
    it); the rest, and the open ones, wait for the report's own refresh. "missing" is known
    locally only: no look ever finds it."""
    price_usd_doctor(sandbox)
    local: dict[int, int] = {}
    async with session_factory() as session:
        repo = ConsultationRepository(session)
        events = StatusEventRepository(session)
        for spec in specs:
            record = _record(sandbox, spec)
            if spec.kind != "missing":
                sandbox.callbacks[record.id] = record
            partner_id = MISSING_PARTNER_ID if spec.kind == "missing" else record.id
            doctor_name = doctor_full_name(sandbox.doctors[spec.doctor_id])
            final = spec.kind not in ("in_progress",)
            if spec.external:
                row, _ = await repo.upsert_external(
                    partner_id,
                    doctor_id=spec.doctor_id,
                    doctor_name=doctor_name,
                    patient_name=spec.patient,
                    patient_phone=spec.phone,
                    last_status=record.status,
                    created_at=spec.created,
                )
            else:
                row = await repo.create_starting(
                    new_secret(),
                    coordinator_id=spec.coordinator_id,
                    doctor_id=spec.doctor_id,
                    doctor_name=doctor_name,
                    patient_name=spec.patient,
                    patient_phone=spec.phone,
                )
                await repo.bind_partner_id(row.id, partner_id, state=ConsultationState.ACTIVE)
            for entry in record.statuses:
                await events.record(row.id, entry.status, entry.at, EventSource.RECONCILE)
            await session.execute(
                update(Consultation)
                .where(Consultation.id == row.id)
                .values(
                    created_at=spec.created,
                    announced_at=spec.created,  # followed since: nothing left to announce
                    state=ConsultationState.FINAL if final else ConsultationState.ACTIVE,
                )
            )
            local[spec.n] = row.id
        await session.commit()
        for spec in specs:
            if spec.n % 2 or spec.kind in ("missing", "in_progress"):
                continue
            record = next(r for r in sandbox.callbacks.values() if r.patient_name == spec.patient)
            consultation = await repo.get(local[spec.n])
            assert consultation is not None
            answer = Callback.model_validate(sandbox.callback_json(record))
            await processor.apply(session, consultation, answer, EventSource.NOTIFICATION)
        await session.commit()
    return local
