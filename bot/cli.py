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
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot.settings import (
    ConfigError,
    DatabaseSettings,
    Settings,
    load_database_settings,
    load_settings,
)

EXIT_CONFIG = 2


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
    from bot.app.runtime import run_bot

    asyncio.run(run_bot(settings))
    return 0


def _cmd_migrate(settings: DatabaseSettings, args: argparse.Namespace) -> int:
    from bot.app.preflight import migrate_database

    asyncio.run(migrate_database(settings.database_url))
    print("database is at the latest revision")
    return 0


def _ops_command(name: str) -> Callable[[Any, argparse.Namespace], int]:
    module_name = "bot.ops." + name.replace("-", "_")

    def command(settings: Any, args: argparse.Namespace) -> int:
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
DATABASE_ONLY = frozenset({"migrate", "backup"})

COMMANDS: dict[str, Callable[[Any, argparse.Namespace], int]] = {
    "run": _cmd_run,
    "migrate": _cmd_migrate,
    "check": _ops_command("check"),
    "backup": _ops_command("backup"),
    "partner-login": _ops_command("partner-login"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings: DatabaseSettings = (
            load_database_settings() if command in DATABASE_ONLY else load_settings()
        )
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return COMMANDS[command](settings, args)
    except ConfigError as exc:  # raised late, e.g. by the token set-up
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
