"""`python -m bot migrate` and `backup` need only DATABASE_URL (no BOT_TOKEN to touch the db)."""

from __future__ import annotations

from pathlib import Path

from tests.bot_runtime.test_cli_start_errors import _one_line, _run_cli


async def test_migrate_needs_only_database_url(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    code, err = await _run_cli(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}, "migrate", cwd=tmp_path
    )
    assert code == 0, err
    assert db.exists()
    # A malformed setting migrate does not use is not its business either.
    code, err = await _run_cli(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "ADMIN_IDS": "x"}, "migrate", cwd=tmp_path
    )
    assert code == 0, err


async def test_run_still_requires_bot_token(tmp_path: Path) -> None:
    code, err = await _run_cli(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}, "run", cwd=tmp_path
    )
    assert code == 2
    assert "BOT_TOKEN" in _one_line(err)


async def test_backup_needs_only_database_url(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    code, err = await _run_cli(env, "migrate", cwd=tmp_path)
    assert code == 0, err
    code, err = await _run_cli(env, "backup", str(tmp_path / "copy.db"), cwd=tmp_path)
    assert code == 0, err
    assert (tmp_path / "copy.db").stat().st_size > 0


async def test_migrate_refuses_a_bad_database_url_in_one_line(tmp_path: Path) -> None:
    code, err = await _run_cli({"DATABASE_URL": "postgresql://u:secret@h/db"}, "migrate",
                               cwd=tmp_path)
    assert code == 2
    line = _one_line(err)
    assert "DATABASE_URL" in line and "secret" not in line
