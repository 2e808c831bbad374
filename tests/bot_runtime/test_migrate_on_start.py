"""Issue 13: migrations once per deploy. `python -m bot migrate` is its own step; a replica
started with MIGRATE_ON_START=false refuses a schema older than its code in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.schema import check_schema
from bot.settings import ConfigError, load_settings
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.revisions import code_revisions
from tests.bot_runtime.test_cli_start_errors import _env, _one_line, _run_cli


def test_migrate_on_start_defaults_to_true() -> None:
    assert load_settings({"BOT_TOKEN": "123456:ABC"}).migrate_on_start is True
    settings = load_settings({"BOT_TOKEN": "123456:ABC", "MIGRATE_ON_START": "false"})
    assert settings.migrate_on_start is False


def test_behind_means_empty_or_an_older_known_revision() -> None:
    revisions = code_revisions()
    head = revisions.head
    assert head is not None and head == head_revision()
    assert not revisions.is_behind(head)
    assert revisions.is_behind(None)
    assert revisions.is_behind("0001")
    # A revision this code does not know was written by a newer release: not behind.
    assert not revisions.is_behind("9999_from_the_future")


async def test_check_schema_refuses_an_older_schema_naming_the_command(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    with pytest.raises(ConfigError, match=r"python -m bot migrate") as empty:
        await check_schema(url)
    assert "revision none" in str(empty.value)
    await upgrade(url)
    await check_schema(url)  # at head: fine
    await downgrade(url, "0004")
    with pytest.raises(ConfigError) as older:
        await check_schema(url)
    assert f"at revision 0004, this code needs {head_revision()}" in str(older.value)
    assert await current_revision(url) == "0004"  # checked, never migrated


def test_migrate_command_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "latest revision" in out


async def test_a_replica_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    env = _env(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{db}", MIGRATE_ON_START="false")
    code, err = await _run_cli(env, "run", cwd=tmp_path)
    assert code == 2
    line = _one_line(err)
    assert "python -m bot migrate" in line and "MIGRATE_ON_START=false" in line
    assert await current_revision(f"sqlite+aiosqlite:///{db}") is None


async def test_start_migrates_in_a_child_only_when_the_schema_is_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import schema

    children: list[str] = []

    async def child(url: str) -> None:
        children.append(url)
        await upgrade(url)

    monkeypatch.setattr(schema, "migrate_in_child", child)
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await schema.ensure_schema(url)  # never migrated: the child runs
    await schema.ensure_schema(url)  # at head: nothing is started
    await downgrade(url, "0004")
    await schema.ensure_schema(url)  # behind: the child again
    assert children == [url, url]
    assert await current_revision(url) == head_revision()
