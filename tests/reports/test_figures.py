"""What a look stores (the one status path, bot/services/status_changes.py), and each
consultation's outcome, minutes and cost (bot/reports/figures.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.models import Callback
from bot.i18n import I18n
from bot.notifications.runtime import status_processor
from bot.reports.figures import Outcome, billed_minutes, cost_cents, figures_of, outcome_of
from storage.enums import ConsultationState, EventSource
from storage.hashing import new_secret
from storage.report_rows import CallFigures, ReportRecord
from storage.repositories import ConsultationRepository

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def answer(**extra: object) -> Callback:
    return Callback.model_validate(
        {
            "id": "c0ffee00-0000-4000-8000-000000000001",
            "status": {"id": "Processed"},
            "statuses": [{"status": {"id": "Processed"}, "createdAtUtc": "2026-05-04T10:20:00"}],
            **extra,
        }
    )


CALLS = [
    {
        "actor": {"id": "Patient"},
        "duration": 0,
        "successful": False,
        "startedAtUtc": "2026-05-04T10:02:00",
    },
    {
        "actor": {"id": "Doctor"},
        "duration": 130,
        "successful": True,
        "startedAtUtc": "2026-05-04T10:05:00",
    },
]


def test_a_look_with_calls_and_the_real_services_spelling() -> None:
    figures = figures_of(
        answer(calls=CALLS, costPerMinuite={"amount": 40.5, "currency": {"id": "RUB"}})
    )
    assert figures == CallFigures(
        calls=2,
        talk_seconds=130,
        reached=True,
        first_call_at=datetime(2026, 5, 4, 10, 2, tzinfo=UTC),
        cost_per_minute_cents=4050,
        currency="RUB",
    )
    assert billed_minutes(figures) == 3  # 2 min 10 s: three started minutes
    assert cost_cents(figures) == 3 * 4050


def test_an_answer_without_calls_says_nothing() -> None:
    assert figures_of(answer()) is None  # e.g. the one made up right after a terminate
    empty = figures_of(answer(calls=[]))
    assert empty is not None and empty.calls == 0 and not empty.reached
    unpriced = figures_of(answer(calls=CALLS))
    assert unpriced is not None and cost_cents(unpriced) is None  # talked, no price
    assert billed_minutes(CallFigures(1, 60, True, None, 100, "RUB")) == 1
    assert cost_cents(CallFigures(1, 0, False, None, None, None)) == 0


def _record(**changes: object) -> ReportRecord:
    base: dict[str, object] = dict(
        id=1,
        partner_id="p",
        created_at=AT,
        doctor_id=101,
        doctor_name="D",
        coordinator_id=None,
        external=False,
        closed=True,
        last_status="Unsuccessful",
        terminated=False,
        figures=CallFigures(1, 0, False, AT, 100, "RUB"),
    )
    return ReportRecord(**{**base, **changes})  # type: ignore[arg-type]


def test_outcomes() -> None:
    reached = CallFigures(1, 30, True, AT, 100, "RUB")
    assert outcome_of(_record()) is Outcome.UNSUCCESSFUL
    assert outcome_of(_record(terminated=True)) is Outcome.TERMINATED
    assert outcome_of(_record(terminated=True, figures=reached)) is Outcome.REACHED
    assert outcome_of(_record(closed=False, last_status="Processing")) is Outcome.IN_PROGRESS
    assert outcome_of(_record(figures=None)) is Outcome.MISSING


async def test_the_status_path_stores_figures_and_a_terminate_keeps_them(
    session_factory: async_sessionmaker[AsyncSession], i18n: I18n
) -> None:
    processor = status_processor(i18n, admin_ids=(), cards=False)
    look = answer(calls=CALLS, costPerMinuite={"amount": 70, "currency": {"id": "RUB"}})
    async with session_factory() as session:
        repo = ConsultationRepository(session)
        row = await repo.create_starting(new_secret(), coordinator_id=None, doctor_id=102)
        await repo.bind_partner_id(row.id, look.id, state=ConsultationState.ACTIVE)
        await session.commit()
        consultation = await repo.get(row.id)
        assert consultation is not None
        processor.now = lambda: AT
        await processor.apply(session, consultation, look, EventSource.NOTIFICATION)
        await session.commit()
        assert (consultation.calls_count, consultation.talk_seconds) == (2, 130)
        assert consultation.patient_reached is True
        assert (consultation.cost_per_minute_cents, consultation.cost_currency) == (7000, "RUB")
        assert consultation.figures_at == AT
        assert consultation.terminated is False

        # The same look again, later: nothing changed, nothing written.
        processor.now = lambda: AT + timedelta(minutes=5)
        await processor.apply(session, consultation, look, EventSource.RECONCILE)
        await session.commit()
        assert consultation.figures_at == AT

        # A terminate through the bot: its made-up answer has no calls; they stay.
        terminate = Callback.model_validate({"id": look.id, "status": {"id": "Unsuccessful"}})
        await processor.apply(session, consultation, terminate, EventSource.TERMINATE)
        await session.commit()
        await session.refresh(consultation)
        assert consultation.terminated is True
        assert consultation.calls_count == 2 and consultation.figures_at == AT
