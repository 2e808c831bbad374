"""A purged name must not stay readable in the SQLite file: ``secure_delete`` zeroes the
old content SQLite would otherwise leave in free space of pages (and free pages) after an
UPDATE or DELETE, where a copy of the file (a backup, a stolen disk) still shows it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from storage.db import create_engine, create_session_factory
from storage.enums import ConsultationState
from storage.migrate import upgrade
from storage.models import Consultation
from storage.repositories import ConsultationRepository, OutboxRepository

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NAME = "Зеленоглазова Ефросинья"
PHONE = "+79161234567"


@pytest.fixture(autouse=True)
def library_default_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite as most builds ship it: secure_delete off unless a connection asks for it
    (Debian's build turns it on at compile time, which would hide a missing pragma)."""
    connect = sqlite3.connect

    def connect_insecure(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect_insecure)


async def test_sqlite_connections_delete_securely(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    try:
        async with engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA secure_delete"))) == 1
    finally:
        await engine.dispose()


def _files_bytes(folder: Path) -> bytes:
    """The database file and whatever SQLite keeps beside it (-wal, -shm)."""
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


async def test_a_purged_name_is_not_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        factory = create_session_factory(engine)
        async with factory() as session:
            repo = ConsultationRepository(session)
            for n in range(20):
                row = await repo.create_starting(
                    f"secure{n:04d}", coordinator_id=1, doctor_id=2, doctor_name="Доктор",
                    patient_name=f"{NAME} {n}", patient_phone=PHONE, now=NOW - timedelta(days=40),
                )
                await OutboxRepository(session).enqueue(
                    1, f"Пациент {NAME} {n}, {PHONE}", consultation_id=row.id,
                    now=NOW - timedelta(days=40),
                )
            await session.execute(
                update(Consultation).values(
                    state=ConsultationState.FINAL, last_status_at=NOW - timedelta(days=31)
                )
            )
            await session.commit()
        async with factory() as session:
            purged = await ConsultationRepository(session).purge_final_older_than(
                NOW, timedelta(days=30)
            )
            await session.commit()
        assert purged.consultations == 20
        async with engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await engine.dispose()
    content = _files_bytes(tmp_path)
    still = [n for n in (NAME, NAME.casefold(), PHONE, PHONE[2:]) if n.encode() in content]
    assert still == []
