"""Command line: ``python -m bot [run|migrate|check|backup|partner-login]``.

A bad setting prints one line on stderr and exits 2 (no traceback): operators read it.

``check``, ``backup`` and ``partner-login`` are looked up lazily as modules
``bot.ops.check``, ``bot.ops.backup`` and ``bot.ops.partner_login`` exposing
``def main(settings: Settings, args: argparse.Namespace) -> int``; until such a module exists
the command prints "not implemented yet" and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.aiogram_types import defer_aiogram_builds
from bot.settings import (
    ConfigError,
    DatabaseSettings,
    Settings,
    load_database_settings,
    load_settings,
)

EXIT_CONFIG = 2

SettingsT = TypeVar("SettingsT", bound=DatabaseSettings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("migrate", help="upgrade the database to the latest schema and exit")
    sub.add_parser("check", help="try the partner API and the public URL")
    backup = sub.add_parser("backup", help="consistent online copy of the SQLite database")
    backup.add_argument("file", nargs="?")
    sub.add_parser("partner-login", help="get the partner API token pair by SMS code")
    return parser


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    # httpx imports its command line client (rich, click, pygments: ~3 MiB resident) when
    # those happen to be installed, as in the development venv; the bot never runs it. None
    # in sys.modules makes that import fail as it does where they are absent (the Docker
    # image), a case httpx handles.
    if "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
    defer_aiogram_builds()  # before aiogram's first import: ~100 MiB and ~2 s less
    from bot.app.runtime import run_bot

    asyncio.run(run_bot(settings))
    return 0


def _cmd_migrate(settings: DatabaseSettings, args: argparse.Namespace) -> int:
    from bot.schema import migrate_database  # not bot.app: no aiogram, routers, dialogs

    asyncio.run(migrate_database(settings.database_url))
    print("database is at the latest revision")
    return 0


def _ops_command(name: str) -> Callable[[SettingsT, argparse.Namespace], int]:
    """The command's ``main(settings, args)``; ``SettingsT`` is the settings it is given
    (``Settings``, or ``DatabaseSettings`` for a database-only command)."""
    module_name = "bot.ops." + name.replace("-", "_")

    def command(settings: SettingsT, args: argparse.Namespace) -> int:
        defer_aiogram_builds()  # a Telegram-side tool builds only the types it uses
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name not in (module_name, "bot.ops"):
                raise
            print(f"{name}: not implemented yet", file=sys.stderr)
            return 2
        result: int = module.main(settings, args)
        return result

    return command


# Each command gets Settings, except these: they touch only the database, so an operator
# migrating or backing up on a host without the bot's token need not invent one.
DATABASE_COMMANDS: dict[str, Callable[[DatabaseSettings, argparse.Namespace], int]] = {
    "migrate": _cmd_migrate,
    "backup": _ops_command("backup"),
}
DATABASE_ONLY = frozenset(DATABASE_COMMANDS)

COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "run": _cmd_run,
    "check": _ops_command("check"),
    "partner-login": _ops_command("partner-login"),
    **DATABASE_COMMANDS,
}


def _with_settings(command: str) -> Callable[[argparse.Namespace], int]:
    """The command bound to the settings it needs (loading them may raise ConfigError)."""
    if command in DATABASE_COMMANDS:
        return functools.partial(DATABASE_COMMANDS[command], load_database_settings())
    return functools.partial(COMMANDS[command], load_settings())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        run = _with_settings(command)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return run(args)
    except ConfigError as exc:  # raised late, e.g. by the token set-up
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
