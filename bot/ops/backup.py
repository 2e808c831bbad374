"""``python -m bot backup <file>``: a consistent copy of the SQLite database, online.

Uses SQLite's online backup API (``sqlite3.Connection.backup``), not a file copy: a copy
of the database file taken while the bot writes (and with a WAL beside it) can be torn or
miss committed transactions. The backup runs in a single step, so it reads one snapshot
while the bot keeps writing. It is written to ``<file>.partial``, checked
(``PRAGMA quick_check``) and then renamed, so ``<file>`` is never half written; on any
failure the ``.partial`` (a full copy of patient data) is removed.

A directory as ``<file>`` is refused (one line, exit 1) rather than filled with a generated
name: the operator names the copy, so a cron line's output is always where it says.

PostgreSQL is refused with a pointer to ``pg_dump``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.ops import FAIL, OK
from bot.settings import DatabaseSettings

Say = Callable[[str], None]


class BackupError(Exception):
    """One line for the operator."""


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"DATABASE_URL is {url.get_backend_name()}, not SQLite: "
            "back it up with that database's own tools (pg_dump for PostgreSQL)"
        )
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise BackupError("DATABASE_URL is an in-memory SQLite database: nothing to back up")
    return Path(database).expanduser()


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with the online backup API; the number of tables."""
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    if target.is_dir():
        raise BackupError(
            f"{target} is a directory: give the file to write, e.g. {target / 'bot.db'}"
        )
    if target.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # A full copy of patient data: readable by the owner only, whatever the umask
        # (SQLite opens the existing empty file; the rename keeps its mode).
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.chmod(partial, 0o600)
        return _copy(source, partial, target)
    finally:
        # Whatever went wrong (or right: then it was renamed), no stray copy stays behind.
        partial.unlink(missing_ok=True)


def _copy(source: Path, partial: Path, target: Path) -> int:
    # Read-only: a backup must never create or change the source.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, under one read transaction, so
            # concurrent writes (from other connections) cannot make the copy inconsistent.
            src.backup(dst, pages=-1)
            # The copy needs no WAL of its own: a single self-contained file.
            dst.execute("PRAGMA journal_mode=DELETE")
            status = dst.execute("PRAGMA quick_check").fetchone()
            if not status or status[0] != "ok":
                raise BackupError(f"the copy failed its integrity check: {status}")
            tables = dst.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite error: {exc}") from exc
    finally:
        src.close()
    os.replace(partial, target)
    return int(tables)


def run_backup(settings: DatabaseSettings, file: str | None, *, say: Say = print) -> int:
    if not file:
        say(f"{FAIL} backup: give the file to write, e.g. python -m bot backup /backups/bot.db")
        return 2
    try:
        source = sqlite_path(settings.database_url)
        tables = backup_sqlite(source, Path(file))
    except BackupError as exc:
        say(f"{FAIL} backup: {exc}")
        return 1
    except OSError as exc:  # permissions, a full disk, a path through a file…
        reason = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        say(f"{FAIL} backup: cannot write {file}: {reason}{where}")
        return 1
    size = Path(file).stat().st_size
    say(f"{OK} backup written to {file} ({size // 1024} KiB, {tables} tables)")
    return 0


def main(settings: DatabaseSettings, args: argparse.Namespace) -> int:
    return run_backup(
        settings,
        getattr(args, "file", None),
        say=lambda line: print(line, file=sys.stderr if line.startswith(FAIL) else sys.stdout),
    )
