"""The report's reads and the figures' writes (storage/repositories/consultations_figures.py),
on SQLite and PostgreSQL: the period's bounds, a doctor's own, keyset pages through ties of
created_at, which to refresh first, and patient data only when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ConsultationState
from storage.hashing import new_secret
from storage.models import Consultation
from storage.report_rows import CallFigures
from storage.repositories import ConsultationRepository
from storage.repositories.consultations import ReportSelection

START = datetime(2026, 4, 30, 21, 0, tzinfo=UTC)  # 1 May 00:00 Moscow
END = datetime(2026, 5, 31, 21, 0, tzinfo=UTC)


async def _row(
    session: AsyncSession, n: int, created: datetime, doctor: int, state: ConsultationState
) -> Consultation:
    repo = ConsultationRepository(session)
    row = await repo.create_starting(
        new_secret(),
        coordinator_id=7,
        doctor_id=doctor,
        patient_name=f"P{n}",
        patient_phone=f"+7916000{n:04d}",
    )
    await repo.bind_partner_id(row.id, f"{n:08d}-part", state=state)
    await session.execute(
        update(Consultation).where(Consultation.id == row.id).values(created_at=created)
    )
    return row


async def test_a_period_in_pages(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    same = START + timedelta(days=3)
    rows = [
        await _row(session, 1, START - timedelta(seconds=1), 101, ConsultationState.FINAL),
        await _row(session, 2, START, 101, ConsultationState.FINAL),  # first instant: in
        await _row(session, 3, same, 102, ConsultationState.FINAL),
        await _row(session, 4, same, 101, ConsultationState.ACTIVE),  # a tie of created_at
        await _row(session, 5, same, 101, ConsultationState.FINAL),
        await _row(session, 6, END - timedelta(seconds=1), 102, ConsultationState.FINAL),
        await _row(session, 7, END, 101, ConsultationState.FINAL),  # next period
    ]
    never_bound = await repo.create_starting(new_secret(), coordinator_id=7, doctor_id=101)
    await session.execute(
        update(Consultation).where(Consultation.id == never_bound.id).values(created_at=same)
    )
    figures = CallFigures(2, 130, True, same, 4000, "RUB")
    for row in rows[2:4]:
        consultation = await repo.get(row.id)
        assert consultation is not None
        await repo.store_figures(consultation, figures, terminated=False, now=same)
    await session.commit()

    everyone = ReportSelection(START, END)
    assert await repo.count_for_report(everyone) == 5
    pages = []
    after = None
    while True:
        page = await repo.report_page(everyone, after=after, limit=2)
        pages.append([r.partner_id[:8] for r in page])
        if len(page) < 2:
            break
        after = (page[-1].created_at, page[-1].id)
    assert pages == [["00000002", "00000003"], ["00000004", "00000005"], ["00000006"]]

    page = await repo.report_page(everyone)
    assert [r.figures for r in page] == [None, figures, figures, None, None]
    assert all(r.patient_name is None and r.patient_phone is None for r in page)
    with_patients = await repo.report_page(everyone, patient_details=True)
    assert [r.patient_name for r in with_patients] == ["P2", "P3", "P4", "P5", "P6"]

    own = ReportSelection(START, END, doctor_id=101)
    assert [r.partner_id[:8] for r in await repo.report_page(own)] == [
        "00000002",
        "00000004",
        "00000005",
    ]
    # Open (4, even with figures) or never looked at (2, 5, 6); 3 is done.
    assert await repo.count_refresh(everyone) == 4
    ids = await repo.report_refresh_ids(everyone, limit=2)
    rest = await repo.report_refresh_ids(everyone, after_id=ids[-1])
    assert ids + rest == [rows[1].id, rows[3].id, rows[4].id, rows[5].id]


async def test_figures_are_written_only_when_they_change(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    row = await _row(session, 1, START, 101, ConsultationState.ACTIVE)
    await session.commit()
    consultation = await repo.get(row.id)
    assert consultation is not None
    first = CallFigures(1, 0, False, START, None, None)
    await repo.store_figures(consultation, first, terminated=False, now=START)
    assert consultation.figures_at == START
    later = START + timedelta(minutes=5)
    await repo.store_figures(consultation, first, terminated=False, now=later)
    assert consultation.figures_at == START  # nothing changed
    await repo.store_figures(consultation, None, terminated=True, now=later)
    assert consultation.terminated and consultation.figures_at == START
    second = CallFigures(2, 61, True, START, 4000, "RUB")
    await repo.store_figures(consultation, second, terminated=False, now=later)
    await session.commit()
    await session.refresh(consultation)
    assert consultation.figures_at == later
    assert consultation.terminated  # once terminated, always
    assert (consultation.calls_count, consultation.cost_per_minute_cents) == (2, 4000)
