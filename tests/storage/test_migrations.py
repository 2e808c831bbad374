from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from storage.models import Base
from storage.revisions import code_revisions, database_revision

ROOT = Path(__file__).resolve().parents[2]


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    revs = [r.revision for r in script.walk_revisions("base", "heads")]
    return list(reversed(revs))  # oldest first


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_stairway_upgrade_downgrade_upgrade(db_url: str) -> None:
    revisions = _revisions()
    assert revisions, "no migrations found"
    for i, rev in enumerate(revisions):
        previous = revisions[i - 1] if i else "base"
        await upgrade(db_url, rev)
        assert await current_revision(db_url) == rev
        await downgrade(db_url, previous)
        assert await current_revision(db_url) == (None if previous == "base" else previous)
        await upgrade(db_url, rev)
    assert await current_revision(db_url) == head_revision()
    await downgrade(db_url, "base")
    assert await _tables(db_url) <= {"alembic_version"}


async def _database_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(database_revision)
    finally:
        await engine.dispose()


async def test_revisions_read_without_alembic_are_alembics(db_url: str) -> None:
    """storage/revisions.py (what the running bot uses) reads what Alembic reads."""
    revisions = code_revisions()
    assert revisions.head == head_revision()
    assert revisions.known == set(_revisions())
    assert await _database_revision(db_url) is None
    for rev in (_revisions()[0], head_revision()):
        await upgrade(db_url, rev)
        assert await _database_revision(db_url) == await current_revision(db_url) == rev


def test_revisions_follow_down_revisions_and_refuse_two_heads(tmp_path: Path) -> None:
    def write(name: str, body: str) -> None:
        (tmp_path / f"{name}.py").write_text(body, encoding="utf-8")

    write("a", 'revision: str = "a"\ndown_revision: str | None = None\n')
    write("b", 'revision = "b"\ndown_revision = "a"\n')
    write("c", 'revision = "c"\ndown_revision = "a"\n')
    with pytest.raises(RuntimeError, match="2 heads"):
        code_revisions(tmp_path)
    write("d", 'revision = "d"\ndown_revision = ("b", "c")\n')  # a merge
    revisions = code_revisions(tmp_path)
    assert revisions.head == "d" and revisions.known == {"a", "b", "c", "d"}
    assert revisions.is_behind("b") and not revisions.is_behind("d")


async def test_models_match_migrations(migrated_url: str) -> None:
    engine = create_engine(migrated_url)

    def diff(conn: Connection) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
    assert set(Base.metadata.tables) <= await _tables(migrated_url)


async def test_upgrade_is_idempotent(migrated_url: str) -> None:
    await upgrade(migrated_url)
    assert await current_revision(migrated_url) == head_revision()


def test_alembic_cli_uses_database_url(tmp_path: Path) -> None:
    db = tmp_path / "cli" / "bot.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    alembic = Path(sys.executable).with_name("alembic")
    done = subprocess.run(
        [str(alembic), "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert db.exists()
