from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import ConsultationState, EventSource, Origin
from storage.models import Consultation, StatusEvent
from storage.repositories import (
    ConsultationRepository,
    OutboxRepository,
    StatusEventRepository,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def _starting(
    repo: ConsultationRepository,
    token: str,
    *,
    name: str = "Иванов Иван",
    phone: str = "+79099708593",
    doctor_id: int = 101,
    coordinator_id: int = 10,
    now: datetime = T0,
    begin_at: datetime | None = None,
) -> Consultation:
    return await repo.create_starting(
        token,
        coordinator_id=coordinator_id,
        doctor_id=doctor_id,
        doctor_name="Петров",
        patient_name=name,
        patient_phone=phone,
        begin_at=begin_at,
        duration_min=15,
        attachment_name="scan.pdf",
        now=now,
    )


async def test_create_lookup_bind_state_card(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    draft = await repo.create_draft("tok-d", coordinator_id=10, doctor_id=101, now=T0)
    assert (draft.state, draft.origin, draft.start_attempted_at) == (
        ConsultationState.DRAFT,
        Origin.BOT,
        None,
    )
    c = await _starting(repo, "tok-1")
    assert c.state is ConsultationState.STARTING and c.start_attempted_at == T0
    assert c.token_hash != "tok-1" and len(c.token_hash or "") == 64
    assert c.patient_name_search == "иванов иван"
    assert "Иванов" not in repr(c) and "+7909" not in repr(c)

    assert (await repo.by_token("tok-1")) is c
    assert await repo.by_token("other") is None
    assert (await repo.get(c.id)) is c
    assert set(await repo.get_many([c.id, draft.id, 999])) == {c.id, draft.id}

    assert await repo.bind_partner_id(c.id, "p-1", doctor_name="Петров П. П.", now=T0)
    await session.refresh(c)
    assert (c.partner_id, c.state, c.doctor_name, c.last_seen_at) == (
        "p-1",
        ConsultationState.ACTIVE,
        "Петров П. П.",
        T0,
    )
    assert (await repo.by_partner_id("p-1")) is c
    assert set(await repo.by_partner_ids(["p-1", "p-x"])) == {"p-1"}

    assert await repo.set_state(draft.id, ConsultationState.STARTING, now=T0 + timedelta(1))
    await session.refresh(draft)
    assert draft.start_attempted_at == T0 + timedelta(1)
    assert await repo.set_card(c.id, 555, 77)
    assert await repo.mark_seen([c.id], T0 + timedelta(minutes=3)) == 1
    await session.refresh(c)
    assert (c.card_chat_id, c.card_message_id, c.last_seen_at) == (
        555,
        77,
        T0 + timedelta(minutes=3),
    )
    assert not await repo.set_card(999, 1, 1)


async def test_bind_replaces_external_duplicate(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    mine = await _starting(repo, "tok-1")
    other = await _starting(repo, "tok-2")
    ext, created = await repo.upsert_external("p-9", last_status="Registered", now=T0)
    assert created and ext.origin is Origin.EXTERNAL
    ext_id = ext.id
    await OutboxRepository(session).enqueue(1, "x", dedupe_key="k", consultation_id=ext_id)
    assert await repo.bind_partner_id(mine.id, "p-9")
    assert await repo.get(ext_id) is None
    assert (await repo.by_partner_id("p-9")).id == mine.id  # type: ignore[union-attr]
    # A partner id already bound to another bot consultation is refused.
    assert not await repo.bind_partner_id(other.id, "p-9")


async def test_upsert_external(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    row, created = await repo.upsert_external(
        "p-ext",
        doctor_id=101,
        doctor_name="Петров",
        patient_name="Сидорова Анна",
        patient_phone="+79001112233",
        last_status="Processed",
        last_status_at=T0,
        created_at=T0 - timedelta(hours=1),
        now=T0,
    )
    assert created and row.state is ConsultationState.FINAL and row.origin is Origin.EXTERNAL
    assert row.token_hash is None and row.created_at == T0 - timedelta(hours=1)
    row2, created2 = await repo.upsert_external("p-ext", patient_name="Сидорова А.", now=T0)
    assert not created2 and row2.id == row.id and row2.patient_name == "Сидорова А."
    assert row2.last_status == "Processed"  # status moves only through status events
    # A bot-started consultation is not overwritten by a list page.
    mine = await _starting(repo, "tok")
    await repo.bind_partner_id(mine.id, "p-mine")
    same, created3 = await repo.upsert_external("p-mine", patient_name="Someone Else")
    assert not created3 and same.id == mine.id and same.patient_name == "Иванов Иван"
    assert same.origin is Origin.BOT


async def test_needs_refresh_flag_coalesces(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as s, s.begin():
        repo = ConsultationRepository(s)
        ids = [(await _starting(repo, f"tok-{i}")).id for i in range(5)]
    async with session_factory() as s, s.begin():
        repo = ConsultationRepository(s)
        for _ in range(3):  # three hits on one consultation
            assert await repo.mark_needs_refresh("tok-1") == ids[1]
        assert await repo.mark_needs_refresh("tok-3") == ids[3]
        assert await repo.mark_needs_refresh("forged") is None
    async with session_factory() as s, s.begin():
        assert await ConsultationRepository(s).take_needing_refresh(10) == [ids[1], ids[3]]
    async with session_factory() as s, s.begin():
        repo = ConsultationRepository(s)
        assert await repo.take_needing_refresh(10) == []
        assert await repo.request_refresh([ids[0], ids[4]]) == 2
        assert await repo.take_needing_refresh(1) == [ids[0]]
        assert await repo.take_needing_refresh(5) == [ids[4]]


async def test_take_needing_refresh_concurrently_disjoint(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as s, s.begin():
        repo = ConsultationRepository(s)
        ids = [(await _starting(repo, f"tok-{i}")).id for i in range(60)]
        await repo.request_refresh(ids)

    async def worker() -> list[int]:
        got: list[int] = []
        while True:
            async with session_factory() as s, s.begin():
                batch = await ConsultationRepository(s).take_needing_refresh(7)
            if not batch:
                return got
            got += batch

    results = await asyncio.gather(*(worker() for _ in range(3)))
    flat = [i for r in results for i in r]
    assert sorted(flat) == sorted(ids)  # complete and no id twice


async def test_non_final_batches_and_states(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    expected = []
    for i in range(7):
        c = await _starting(repo, f"t{i}")
        await repo.bind_partner_id(c.id, f"p{i}")
        expected.append(c.id)
    final = await _starting(repo, "tf")
    await repo.bind_partner_id(final.id, "pf")
    await repo.set_state(final.id, ConsultationState.FINAL)
    unknown = await _starting(repo, "tu", now=T0 - timedelta(minutes=10))
    await repo.set_state(unknown.id, ConsultationState.UNKNOWN)
    await _starting(repo, "ts")  # starting, no partner id: not reconciled by id

    batches = [b async for b in repo.non_final_batches(3)]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [c.id for b in batches for c in b] == expected
    # Reconcile's list in one query; the same consultations by ascending id.
    assert await repo.open_partner_ids() == [(i, f"p{n}") for n, i in enumerate(expected)]
    assert await repo.partner_ids([expected[1], final.id, unknown.id]) == {
        expected[1]: "p1",
        final.id: "pf",
    }
    # A batch's rows, read under lock, come in ascending id order whatever was asked.
    locked = await repo.lock_many([expected[4], expected[0], expected[2], expected[0]])
    assert [c.id for c in locked] == [expected[0], expected[2], expected[4]]
    assert [b async for b in ConsultationRepository(session).non_final_batches(7)] != []

    assert [c.id for c in await repo.list_in_state(ConsultationState.UNKNOWN)] == [unknown.id]
    assert (
        await repo.list_in_state(ConsultationState.UNKNOWN, older_than=T0 - timedelta(hours=1))
        == []
    )
    assert len(await repo.list_in_state(ConsultationState.UNKNOWN, older_than=T0)) == 1


async def test_active_or_unknown_by_phone(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    a = await _starting(repo, "a")
    await repo.bind_partner_id(a.id, "pa")
    u = await _starting(repo, "u")
    await repo.set_state(u.id, ConsultationState.UNKNOWN)
    f = await _starting(repo, "f")
    await repo.set_state(f.id, ConsultationState.FINAL)
    await repo.create_draft("d", coordinator_id=1, doctor_id=1, patient_phone="+79099708593")
    await _starting(repo, "other", phone="+79000000000")
    found = await repo.active_or_unknown_by_phone("+79099708593")
    assert {c.id for c in found} == {a.id, u.id}


async def test_search_by_phone_and_cyrillic_surname(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    people = [
        ("Иванов Иван Петрович", "+79099708593", 101),
        ("Петрова Ёлка", "+79161234567", 102),
        ("Smith John", "+442079460958", 101),
        ("Ivanova_% Test", "+79990000000", 101),
    ]
    ids = {}
    for i, (name, phone, doctor) in enumerate(people):
        c = await _starting(
            repo, f"t{i}", name=name, phone=phone, doctor_id=doctor, now=T0 + timedelta(minutes=i)
        )
        await repo.bind_partner_id(c.id, f"p{i}")
        ids[name] = c.id

    async def names(query: str, **kw: int) -> list[str]:
        rows, total = await repo.search(query, **kw)
        assert total == len(rows)
        return [r.patient_name or "" for r in rows]

    for q in ["+7 909 970-85-93", "8 (909) 970 85 93", "9099708593", "970-85-93"]:
        assert await names(q) == ["Иванов Иван Петрович"], q
    assert await names("+44 20 7946 0958") == ["Smith John"]
    assert await names("иванов") == ["Иванов Иван Петрович"]
    assert await names("ИВАНОВ") == ["Иванов Иван Петрович"]
    assert await names("иВаН") == ["Иванов Иван Петрович"]  # start of any word
    assert await names("елка") == ["Петрова Ёлка"]  # ё folded
    assert await names("ЁЛКА") == ["Петрова Ёлка"]
    assert await names("smith") == ["Smith John"]
    assert await names("ivan") == ["Ivanova_% Test"]
    assert await names("ivanova_%") == ["Ivanova_% Test"]  # LIKE wildcards escaped
    assert await names("i_anova") == []
    assert await names("ванов") == []  # not in the middle of a word
    assert await names("иванов", doctor_id=102) == []
    assert await names("петрова", doctor_id=102) == ["Петрова Ёлка"]
    assert await names("   ") == []
    rows, total = await repo.search("+7", limit=1)
    assert (rows, total) == ([], 0)  # too few digits for a phone, no name like "+7"


async def test_list_for_doctor_filters_sorts_pages(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    ev = StatusEventRepository(session)
    statuses = ["Processing", "Registered", "Processed", "Delayed", "Unsuccessful", "Registered"]
    ids = []
    for i, status in enumerate(statuses):
        c = await _starting(
            repo, f"t{i}", doctor_id=101, now=T0 + timedelta(minutes=i), coordinator_id=10 + i % 2
        )
        await repo.bind_partner_id(c.id, f"p{i}")
        await ev.record(c.id, status, T0 + timedelta(minutes=i), EventSource.START)
        ids.append(c.id)
    other = await _starting(repo, "x", doctor_id=999)
    await repo.bind_partner_id(other.id, "px")
    await repo.create_draft("d", coordinator_id=10, doctor_id=101)  # no partner id: hidden

    rows, total = await repo.list_for_doctor(101, limit=4)
    assert total == 6 and [r.id for r in rows] == ids[::-1][:4]  # newest first
    rows, _ = await repo.list_for_doctor(101, limit=4, offset=4)
    assert [r.id for r in rows] == ids[::-1][4:]
    rows, total = await repo.list_for_doctor(101, statuses=["Processed", "Unsuccessful"])
    assert total == 2 and {r.id for r in rows} == {ids[2], ids[4]}
    rows, _ = await repo.list_for_doctor(101, order="status", ascending=True)
    assert [r.last_status for r in rows] == [
        "Registered",
        "Registered",
        "Delayed",
        "Processing",
        "Processed",
        "Unsuccessful",
    ]
    assert [r.id for r in rows[:2]] == [ids[1], ids[5]]  # ties: older first when ascending
    rows, _ = await repo.list_for_doctor(101, order="created", ascending=True, limit=2)
    assert [r.id for r in rows] == ids[:2]
    rows, total = await repo.list_filtered(coordinator_id=11)
    assert total == 3 and {r.id for r in rows} == {ids[1], ids[3], ids[5]}
    rows, total = await repo.list_filtered()
    assert total == 7


async def test_due_reminders_once(session: AsyncSession) -> None:
    repo = ConsultationRepository(session)
    lead = timedelta(minutes=15)
    soon = await _starting(repo, "a", begin_at=T0 + timedelta(minutes=10))
    later = await _starting(repo, "b", begin_at=T0 + timedelta(minutes=30))
    past = await _starting(repo, "c", begin_at=T0 - timedelta(minutes=1))
    ended = await _starting(repo, "d", begin_at=T0 + timedelta(minutes=5))
    for c in (soon, later, past, ended):
        await repo.bind_partner_id(c.id, f"p{c.id}")
    await repo.set_state(ended.id, ConsultationState.FINAL)  # terminated before
    starting = await _starting(repo, "e", begin_at=T0 + timedelta(minutes=5))  # not started

    assert [c.id for c in await repo.due_reminders(T0, lead)] == [soon.id]
    assert await repo.mark_reminded(soon.id, T0)
    assert not await repo.mark_reminded(soon.id, T0)
    assert await repo.due_reminders(T0, lead) == []
    assert [c.id for c in await repo.due_reminders(T0 + timedelta(minutes=20), lead)] == [later.id]
    assert starting.id not in {c.id for c in await repo.due_reminders(T0, lead)}


async def test_purge_keeps_ids_and_statuses(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    retention = timedelta(days=30)
    now = T0 + timedelta(days=40)
    async with session_factory() as s, s.begin():
        repo, ev, out = ConsultationRepository(s), StatusEventRepository(s), OutboxRepository(s)
        old = await _starting(repo, "old")
        await repo.bind_partner_id(old.id, "p-old")
        await ev.record(old.id, "Registered", T0, EventSource.START)
        await ev.record(old.id, "Processed", T0 + timedelta(hours=1), EventSource.NOTIFICATION)
        await repo.set_state(old.id, ConsultationState.FINAL)
        await out.enqueue(10, "Иванов: done", dedupe_key="old-1", consultation_id=old.id, now=T0)
        await out.enqueue(10, "pending", dedupe_key="old-2", consultation_id=old.id, now=T0)
        [sent] = await out.claim_due(T0, 1, timedelta(minutes=1))
        await out.mark_sent(sent.id, 5, now=T0)

        recent = await _starting(repo, "recent", now=now - timedelta(days=2))
        await repo.bind_partner_id(recent.id, "p-recent")
        await ev.record(recent.id, "Processed", now - timedelta(days=2), EventSource.NOTIFICATION)
        await repo.set_state(recent.id, ConsultationState.FINAL)
        await out.enqueue(10, "recent", dedupe_key="recent-1", consultation_id=recent.id)

        active = await _starting(repo, "active", now=T0)
        await repo.bind_partner_id(active.id, "p-active")

        draft = await repo.create_draft(
            "draft", coordinator_id=1, doctor_id=1, patient_name="Черновик", now=T0
        )
        stuck = await _starting(repo, "stuck", now=T0)  # start never answered, never settled
        fresh_draft = await repo.create_draft(
            "fresh", coordinator_id=1, doctor_id=1, patient_name="Свежий", now=now
        )
        ids = {
            "old": old.id,
            "recent": recent.id,
            "active": active.id,
            "draft": draft.id,
            "stuck": stuck.id,
            "fresh": fresh_draft.id,
        }

    async with session_factory() as s, s.begin():
        repo = ConsultationRepository(s)
        counts = await repo.purge_final_older_than(now, retention)
        assert (counts.consultations, counts.outbox_messages) == (1, 2)
        abandoned = await repo.purge_abandoned(now, timedelta(days=1))
        assert abandoned.consultations == 2
        again = await repo.purge_final_older_than(now, retention)
        assert (again.consultations, again.outbox_messages) == (0, 0)

    async with session_factory() as s:
        rows = {c.id: c for c in await s.scalars(select(Consultation))}
        assert set(rows) == set(ids.values())  # nothing deleted
        o = rows[ids["old"]]
        assert (o.patient_name, o.patient_name_search, o.patient_phone, o.attachment_name) == (
            None,
            None,
            None,
            None,
        )
        assert (o.partner_id, o.state, o.last_status, o.purged_at) == (
            "p-old",
            ConsultationState.FINAL,
            "Processed",
            now,
        )
        events = await StatusEventRepository(s).list_for(o.id)
        assert [e.status for e in events] == ["Registered", "Processed"]
        for key in ("recent", "active", "fresh"):
            assert rows[ids[key]].patient_name is not None and rows[ids[key]].purged_at is None
        for key in ("draft", "stuck"):
            assert rows[ids[key]].patient_name is None and rows[ids[key]].purged_at == now
        assert rows[ids["stuck"]].state is ConsultationState.STARTING  # state kept
        from storage.models import OutboxMessage

        msgs = {m.dedupe_key: m for m in await s.scalars(select(OutboxMessage))}
        assert msgs["old-1"].text is None and msgs["old-1"].sent_at is not None
        assert msgs["old-2"].text is None and msgs["old-2"].dead
        assert msgs["recent-1"].text == "recent"
        assert await s.scalar(select(StatusEvent.id).limit(1)) is not None
