"""The schema revision the code needs and the one a database is at, read without Alembic.

Every start of the bot checks its schema (bot/app/preflight.py); importing Alembic for that
would keep Alembic, Mako and their parse tables in the long-running process for good. So the
code's revisions are read from the ``revision`` / ``down_revision`` lines of the migration
files, and the database's from Alembic's ``alembic_version`` table. Migrating stays
Alembic's (storage/migrate.py, run by ``python -m bot migrate``); tests/storage checks that
both read the same head.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default; storage/migrate.py keeps it


@dataclass(frozen=True)
class CodeRevisions:
    """The revision the code's migrations end at, and every revision they know."""

    head: str | None
    known: frozenset[str]

    def is_behind(self, current: str | None) -> bool:
        """True when a database at ``current`` lacks migrations the code has: it is empty,
        or ``current`` is one of the code's older revisions. A revision the code does not
        know is taken for a newer one (a later release migrated first): not behind."""
        if current == self.head:
            return False
        return current is None or current in self.known


def _literals(path: Path) -> dict[str, object]:
    """Module-level ``name = <literal>`` (annotated or not) of one migration file."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    continue
    return values


@cache
def code_revisions(directory: Path = VERSIONS_DIR) -> CodeRevisions:
    """Read once per process: the files do not change under a running bot."""
    parents: set[str] = set()
    known: set[str] = set()
    for path in sorted(directory.glob("*.py")):
        values = _literals(path)
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        known.add(revision)
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):  # a merge revision
            parents.update(str(d) for d in down)
    heads = sorted(known - parents)
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)})")
    return CodeRevisions(heads[0] if heads else None, frozenset(known))


def database_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: never migrated); for ``run_sync``."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"the database is at {len(rows)} revisions at once: {sorted(rows)}")
    return str(rows[0]) if rows else None
