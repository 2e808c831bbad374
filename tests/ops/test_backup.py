"""backup: a consistent online copy while the database is being written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.ops.backup import run_backup
from tests.ops.conftest import BOT_TOKEN, MakeSettings

ROOT = Path(__file__).resolve().parents[2]


def _db_path(db_url: str) -> Path:
    return Path(db_url.split("///", 1)[1])


class Writer(threading.Thread):
    """Writes pairs of rows, one pair per transaction, until stopped.

    A consistent copy holds whole transactions only: an even number of rows, each pair
    complete. The source is written through its own connection, as the bot would.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.first_commit = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS backup_probe (id INTEGER PRIMARY KEY, pair INT)"
            )
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                n = self.committed
                conn.execute("INSERT INTO backup_probe (pair) VALUES (?)", (n,))
                conn.execute("INSERT INTO backup_probe (pair) VALUES (?)", (n,))
                conn.execute("COMMIT")
                self.committed += 1
                self.first_commit.set()
            conn.close()
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.first_commit.set()


def test_copy_is_consistent_while_the_source_is_written(
    make_settings: MakeSettings, db_url: str, tmp_path: Path
) -> None:
    source = _db_path(db_url)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO users (telegram_id, role, display_name, notify_mode, is_active, "
            "created_at, updated_at) VALUES (42, 'admin', 'A', 'essentials', 1, "
            "'2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000')"
        )
    writer = Writer(source)
    writer.start()
    assert writer.first_commit.wait(10), "the writer never committed"
    assert writer.error is None, writer.error
    target = tmp_path / "backups" / "bot-copy.db"
    lines: list[str] = []
    try:
        rc = run_backup(make_settings(), str(target), say=lines.append)
        during = writer.committed
    finally:
        writer.stop.set()
        writer.join(10)
    assert writer.error is None, writer.error
    assert rc == 0, lines
    assert lines[0].startswith("✓ backup written")
    assert during > 0
    assert not target.with_name(target.name + ".partial").exists()

    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        pairs = copy.execute("SELECT pair, count(*) FROM backup_probe GROUP BY pair").fetchall()
        assert pairs, "the copy holds none of the committed rows"
        assert all(count == 2 for _, count in pairs)  # whole transactions only
        numbers = sorted(p for p, _ in pairs)
        assert numbers == list(range(len(numbers)))  # a prefix of the history: no gaps
        assert copy.execute("SELECT telegram_id FROM users").fetchall() == [(42,)]
        src = sqlite3.connect(source)
        try:
            tables = "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            assert copy.execute(tables).fetchall() == src.execute(tables).fetchall()
            assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == (
                src.execute("SELECT version_num FROM alembic_version").fetchall()
            )
            # The copy's rows are exactly the source's first ones.
            copied = copy.execute("SELECT id, pair FROM backup_probe ORDER BY id").fetchall()
            assert src.execute(
                "SELECT id, pair FROM backup_probe ORDER BY id LIMIT ?", (len(copied),)
            ).fetchall() == copied
        finally:
            src.close()
    finally:
        copy.close()


def test_refuses_a_non_sqlite_database(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings(database_url="postgresql+asyncpg://bot:secret@db/bot")
    lines: list[str] = []
    assert run_backup(settings, str(tmp_path / "x.db"), say=lines.append) == 1
    assert lines == [
        "✗ backup: DATABASE_URL is postgresql, not SQLite: back it up with that database's "
        "own tools (pg_dump for PostgreSQL)"
    ]
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("file", [None, ""])
def test_needs_a_file(make_settings: MakeSettings, file: str | None) -> None:
    lines: list[str] = []
    assert run_backup(make_settings(), file, say=lines.append) == 2
    assert "give the file" in lines[0]


def test_missing_database_file(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    lines: list[str] = []
    assert run_backup(settings, str(tmp_path / "copy.db"), say=lines.append) == 1
    assert "does not exist" in lines[0]
    assert not (tmp_path / "none.db").exists()  # never created by the backup


def test_cli(db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "cli-copy.db"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": BOT_TOKEN,
        "DATABASE_URL": db_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "backup written" in done.stdout
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def _partials(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.partial"))


def test_a_directory_target_is_refused_and_leaves_nothing(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    target = tmp_path / "backups"
    target.mkdir()
    lines: list[str] = []
    assert run_backup(make_settings(), str(target), say=lines.append) == 1
    assert len(lines) == 1 and lines[0].startswith("✗ backup:"), lines
    assert "is a directory" in lines[0]
    assert _partials(tmp_path) == []  # no stray copy of patient data
    assert list(target.iterdir()) == []


def test_an_os_error_is_one_line_and_removes_the_partial_copy(
    make_settings: MakeSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("bot.ops.backup.os.replace", refuse)
    target = tmp_path / "out" / "copy.db"
    lines: list[str] = []
    assert run_backup(make_settings(), str(target), say=lines.append) == 1
    assert len(lines) == 1 and "Permission denied" in lines[0], lines
    assert _partials(tmp_path) == []
    assert not target.exists()


def test_a_target_under_a_file_is_one_line(make_settings: MakeSettings, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a directory")
    lines: list[str] = []
    assert run_backup(make_settings(), str(tmp_path / "plain" / "copy.db"), say=lines.append) == 1
    assert len(lines) == 1 and lines[0].startswith("✗ backup:"), lines


def test_cli_directory_target_exits_non_zero_without_traceback(
    db_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "somedir"
    target.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": BOT_TOKEN,
        "DATABASE_URL": db_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "is a directory" in done.stderr
    assert _partials(tmp_path) == []


def test_the_copy_is_private_to_the_owner(make_settings: MakeSettings, tmp_path: Path) -> None:
    # A backup is a full copy of patient data: 0600 whatever the operator's umask.
    old = os.umask(0o022)
    try:
        target = tmp_path / "private" / "bot-copy.db"
        assert run_backup(make_settings(), str(target), say=lambda _: None) == 0
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o600
