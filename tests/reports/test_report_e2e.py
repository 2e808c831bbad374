"""/report end to end: the real dispatcher ↔ fake Telegram over HTTP ↔ sandbox over HTTP,
on the seeded month of tests/reports/seed.py (every expected figure is computed there from
the specs, not by the code under test)."""

from __future__ import annotations

import struct

from sqlalchemy import select

from storage.models import AuditEntry, Consultation
from tests.fake_telegram import FakeUser, StoredMessage
from tests.reports import seed
from tests.reports.conftest import World, read_csv

MAY = [s for s in seed.month_specs() if seed.in_may(s)]
OUTCOME_EN = {
    "reached": "reached the patient",
    "unsuccessful": "unsuccessful",
    "terminated": "terminated",
    "in_progress": "in progress",
    "missing": "data missing",
}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def partner_ids(world: World) -> dict[int, str]:
    """spec n → partner id (the CSV's short id is its first block)."""
    by_name = {r.patient_name: r.id for r in world.sb.callbacks.values()}
    return {s.n: by_name.get(s.patient, seed.MISSING_PARTNER_ID) for s in seed.month_specs()}


async def last_month(
    world: World, user: FakeUser
) -> tuple[StoredMessage, StoredMessage, StoredMessage]:
    """/report → Last month; (the totals message, the chart, the CSV)."""
    await user.send_command("/report")
    await user.press(user.buttons()[3])  # "Last month" / "Прошлый месяц"
    (photo,) = await world.files(user, 1, "photo")
    (document,) = await world.files(user, 1)
    totals = next(m for m in user.bot_messages() if m.history)  # the /report message, edited
    return totals, photo, document


async def test_last_month_totals_chart_and_csv(world: World) -> None:
    coordinator = world.coordinator
    await coordinator.send_command("/report")
    assert coordinator.buttons() == [
        "This week",
        "Last week",
        "This month",
        "Last month",
        "Dates…",
    ]
    totals, photo, document = await last_month(world, coordinator)

    # Progress in place, then the totals in the same message.
    shown = [r.text or "" for r in totals.history]
    assert any(f"Counting {len(MAY)} consultations…" in text for text in shown), shown
    want = seed.expected(MAY)
    text = totals.text or ""
    assert "Report for May 1\u2009–\u200931, 2026 (MSK)" in text
    assert f"Consultations started: {want.started}" in text
    for kind, label in (
        ("reached", "reached the patient"),
        ("unsuccessful", "unsuccessful"),
        ("terminated", "terminated"),
        ("in_progress", "still in progress"),
        ("missing", "data missing"),
    ):
        assert f"• {label}: {want.outcomes[kind]}\n" in text, (kind, text)
    assert want.outcomes == {
        "reached": 44,
        "unsuccessful": 10,
        "terminated": 10,
        "in_progress": 2,
        "missing": 1,
    }
    assert f"Minutes talked: {want.minutes:,}" in text
    rub, usd = want.spend["RUB"], want.spend["USD"]
    assert f"Spend: {rub / 100:,.2f}\u00a0RUB, ${usd / 100:,.2f}" in text
    assert totals.button_texts == ["👤 Include patient details"]

    # The chart: a real PNG of sensible size.
    assert photo.photo is not None and photo.photo.content is not None
    png = photo.photo.content
    width, height = png_size(png)
    assert 10_000 <= len(png) <= 2_000_000, len(png)
    assert 600 <= width <= 2000 and 400 <= height <= 2000, (width, height)
    assert photo.photo.file_name == "report-2026-05-01_2026-05-31.png"

    # The CSV: BOM, a header, one row per consultation, no patient data.
    assert document.document is not None
    assert document.document.file_name == "report-2026-05-01_2026-05-31.csv"
    raw, rows = read_csv(document, ",")
    assert raw.startswith(b"\xef\xbb\xbf")
    header, body = rows[0], rows[1:]
    assert header == [
        "ID",
        "Created (MSK)",
        "Call started (MSK)",
        "Doctor",
        "Outcome",
        "Calls",
        "Minutes",
        "Cost per minute",
        "Currency",
        "Cost",
        "Coordinator",
    ]
    assert len(body) == len(MAY)
    assert [r[1] for r in body] == sorted(r[1] for r in body)  # by creation
    ids = partner_ids(world)
    by_id = {r[0]: r for r in body}
    for spec in MAY:
        row = by_id[ids[spec.n][:8]]
        assert row[1] == spec.created.astimezone(seed.MSK).strftime("%Y-%m-%d %H:%M")
        assert row[4] == OUTCOME_EN[spec.kind], (spec, row)
        if spec.kind == "missing":
            assert row[5:8] == ["", "", ""] and row[9] == ""
            continue
        cents, currency = seed.price(spec.doctor_id)
        assert row[5] == str(spec.calls), (spec, row)
        assert row[6] == str(spec.minutes)
        assert row[7] == f"{cents / 100:.2f}" and row[8] == currency
        assert row[9] == f"{spec.minutes * cents / 100:.2f}"
        assert row[10] == (
            "started elsewhere"
            if spec.external
            else {seed.COORDINATOR_ID: "Olga Coord", seed.RU_COORDINATOR_ID: "Иван Коорд"}[
                spec.coordinator_id or 0
            ]
        )
    decoded = raw.decode("utf-8-sig")
    for spec in MAY:
        assert spec.patient not in decoded and spec.phone[2:] not in decoded

    # The refresh looked at the open ones and those never looked at, in URL-bounded batches;
    # what it found is stored; the one the partner never gives stays missing.
    get_alls = world.sb.requests_for("get_all")
    assert get_alls and all(len(r.path_qs) <= 1800 for r in get_alls)
    async with world.session_factory() as session:
        rows_ = {c.id: c for c in await session.scalars(select(Consultation))}
    for spec in MAY:
        stored = rows_[world.local[spec.n]]
        assert (stored.figures_at is None) == (spec.kind == "missing"), spec


async def test_patient_details_for_a_coordinator_are_audited(world: World) -> None:
    coordinator = world.coordinator
    totals, _, _ = await last_month(world, coordinator)
    await coordinator.press("👤 Include patient details", totals)
    documents = await world.files(coordinator, 2)
    details = documents[1]
    assert details.protected  # no forwarding or saving
    assert details.document is not None
    assert details.document.file_name == "report-2026-05-01_2026-05-31-patients.csv"
    _, rows = read_csv(details, ",")
    assert rows[0][-2:] == ["Patient", "Phone"]
    names = {r[-2] for r in rows[1:]}
    phones = {r[-1] for r in rows[1:]}
    assert {s.patient for s in MAY} <= names
    # Phones start with "+": quoted so Excel does not read them as formulas.
    assert {f"'{s.phone}" for s in MAY} <= phones
    async with world.session_factory() as session:
        audit = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "report_patient_details")
            )
        )
    assert [(a.actor_id, a.target) for a in audit] == [
        (seed.COORDINATOR_ID, "report:20260501-20260531")
    ]


async def test_a_doctor_sees_only_their_consultations_and_no_patient_details(
    world: World,
) -> None:
    doctor = world.doctor
    await doctor.send_command("/report")
    assert "Your consultations only." in doctor.last_bot_message().content
    totals, photo, document = await last_month(world, doctor)
    own = [s for s in MAY if s.doctor_id == seed.DOCTOR_ID]
    want = seed.expected(own)
    assert f"Consultations started: {want.started}" in (totals.text or "")
    assert f"Minutes talked: {want.minutes}" in (totals.text or "")
    assert totals.button_texts == []  # no "Include patient details"
    _, rows = read_csv(document, ",")
    assert len(rows) - 1 == len(own)
    assert {r[3] for r in rows[1:]} == {"Иванова Мария Петровна"}
    assert photo.photo is not None

    # A forged "Include patient details": refused by the policy, nothing sent, nothing audited.
    await doctor.press_data("rep:d:20260501-20260531", totals.message_id)
    assert doctor.alerts()[-1].text == (
        "Your role (doctor) does not allow you to see patient names and phones in reports."
    )
    assert len([m for m in doctor.bot_messages() if m.document is not None]) == 1
    async with world.session_factory() as session:
        audit = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "report_patient_details")
        )
    assert audit is None


async def test_russian_report(world: World) -> None:
    user = world.ru_coordinator
    await user.send_command("/report")
    assert user.buttons() == [
        "Эта неделя",
        "Прошлая неделя",
        "Этот месяц",
        "Прошлый месяц",
        "Даты…",
    ]
    totals, _, document = await last_month(world, user)
    want = seed.expected(MAY)
    text = totals.text or ""
    assert "Отчёт за 1—31 мая 2026\u202fг. (МСК)" in text
    assert f"Начато консультаций: {want.started}" in text
    assert f"дозвонились до пациента: {want.outcomes['reached']}" in text
    rub = f"{want.spend['RUB'] // 100:,}".replace(",", "\u00a0")
    assert f"Расходы: {rub},00\u00a0₽" in text
    assert totals.button_texts == ["👤 С данными пациентов"]
    # Excel in Russian: ";" between cells, decimal comma, dd.mm.yyyy.
    raw, rows = read_csv(document, ";")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0][:5] == ["ID", "Создана (МСК)", "Начало звонка (МСК)", "Врач", "Итог"]
    first = rows[1]
    assert first[1] == "01.05.2026 09:00"
    assert first[4] == "дозвонились"
    assert first[7] == "40,00" and first[8] == "RUB"


async def test_typed_dates_and_their_mistakes(world: World) -> None:
    user = world.coordinator
    await user.send_command("/report")
    await user.press("Dates…")
    assert "Type the first and the last day of the period (MSK)" in user.last_bot_message().content
    await user.send_text("31.05.2026 01.05.2026")
    assert "The first day (May 31, 2026) comes after the last one (May 1, 2026)" in (
        user.last_bot_message().content
    )
    await user.send_text("01.07.2026 10.07.2026")
    assert "The period begins in the future (Jul 1, 2026)" in user.last_bot_message().content
    await user.send_text("hello")
    assert "I didn't understand these dates." in user.last_bot_message().content
    await user.send_text("01.05.2026 - 31.05.2026")
    (document,) = await world.files(user, 1)
    _, rows = read_csv(document, ",")
    assert len(rows) - 1 == len(MAY)
    totals = user.bot_messages()[-3]
    assert f"Consultations started: {len(MAY)}" in (totals.text or "")
    # The state is left: text typed now is not taken for dates.
    await user.send_text("01.05.2026 31.05.2026")
    assert "I don't understand" in user.last_bot_message().content


async def test_this_month_is_counted_in_the_users_zone(world: World) -> None:
    """1 June 00:10 in Moscow is 31 May in UTC: it belongs to June's report."""
    user = world.coordinator
    await user.send_command("/report")
    await user.press("This month")
    (document,) = await world.files(user, 1)
    _, rows = read_csv(document, ",")
    june = [s for s in seed.month_specs() if not seed.in_may(s)]
    assert len(rows) - 1 == len(june) == 3
    assert rows[1][1] == "2026-06-01 00:10"


async def test_a_stranger_is_refused(world: World) -> None:
    stranger = world.tg.user(777, first_name="Who", language_code="en")
    await stranger.send_command("/report")
    assert "You have no access to this bot yet." in stranger.last_bot_message().content
    assert "777" in stranger.last_bot_message().content
    await stranger.press_data("rep:p:lm", stranger.last_bot_message().message_id)
    assert "You have no access" in (stranger.alerts()[-1].text or "")


async def test_a_partner_outage_leaves_figures_as_last_seen(world: World) -> None:
    world.sb.inject_fault("get_all", "503", count=100)
    totals, _, document = await last_month(world, world.coordinator)
    text = totals.text or ""
    # Half of them were never looked at, and the two open ones: counted as missing, not
    # guessed; the report says how many it could not update.
    never_looked = [s for s in MAY if s.n % 2 or s.kind in ("missing", "in_progress")]
    assert f"{len(never_looked)} consultations could not be updated" in text
    assert f"• data missing: {len(never_looked)}" in text
    _, rows = read_csv(document, ",")
    assert sum(r[4] == "data missing" for r in rows[1:]) == len(never_looked)
