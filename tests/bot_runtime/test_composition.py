"""The composition root (bot/app/): one written router order, explicit steps, plain imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.client import PartnerApiClient
from bot.app import DEFAULT_STEPS, create_dispatcher
from bot.i18n import I18n
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "bot" / "app"

# The order of bot/app/dispatcher.py's docstring; aiogram-dialog appends its own router.
DOCUMENTED_ORDER = [
    "errors",
    "access.start",
    "access.invites",
    "access.users",
    "access.doctors",
    "access.preferences",
    "access.digest",
    "cancel",
    "report",
    "consultations",
    "start_callback",
    "conclusion",
    "fallback",
    "AiogramDialogStates",
]


def _production(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
) -> Dispatcher:
    return create_dispatcher(settings=settings, api=api, session_factory=session_factory, i18n=i18n)


def test_dispatcher_includes_every_router_in_the_documented_order(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
) -> None:
    dp = _production(settings, api, session_factory, i18n)
    assert [router.name for router in dp.sub_routers] == DOCUMENTED_ORDER
    nested = {router.name: [sub.name for sub in router.sub_routers] for router in dp.sub_routers}
    assert nested["consultations"] == ["ConsultationsListSG"]  # the list dialog
    assert nested["start_callback"] == ["StartCallbackSG"]  # the wizard dialog
    docstring = (APP / "dispatcher.py").read_text(encoding="utf-8").split('"""')[1]
    positions = [docstring.index(f"[{name}]") for name in DOCUMENTED_ORDER[:-1]]
    assert positions == sorted(positions)


def test_each_dispatcher_gets_its_own_routers(
    settings: Settings,
    api: PartnerApiClient,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
) -> None:
    """Tests and a restart build several dispatchers in one process."""
    first = _production(settings, api, session_factory, i18n)
    second = _production(settings, api, session_factory, i18n)
    assert not {id(r) for r in first.sub_routers} & {id(r) for r in second.sub_routers}
    assert all(router.parent_router is first for router in first.sub_routers)


def test_start_up_steps_in_their_order() -> None:
    assert [step.__name__ for step in DEFAULT_STEPS] == [
        "start_redis",
        "start_database",
        "load_stored_settings",
        "start_sandbox",
        "start_partner_api",
        "start_bot",
        "create_outbox",
        "create_scheduler",
        "build_notifications",
        "build_dispatcher",
        "start_http",
        "start_outbox",
        "start_notifications",
        "settle_interrupted_starts",
        "start_scheduler",
        "set_commands",
    ]


def _dynamic_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("importlib")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("importlib"):
            found.append(node.module or "")
        elif isinstance(node, ast.Name) and node.id in ("__import__", "import_module"):
            found.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in ("import_module", "__import__"):
            found.append(node.attr)
    return found


def test_the_composition_root_imports_plainly() -> None:
    files = sorted(APP.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "dispatcher.py", "runtime.py"}
    assert {f.name: _dynamic_imports(f) for f in files} == {f.name: [] for f in files}
    assert all("importlib" not in f.read_text(encoding="utf-8") for f in files)


def test_a_missing_router_module_fails_the_import() -> None:
    """No optional loading: without one router module the bot does not start at all."""
    code = (
        "import sys; sys.modules['bot.routers.conclusion'] = None\n"
        "try:\n    import bot.app\nexcept ImportError as exc:\n    print('ImportError', exc.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "ImportError bot.routers.conclusion", result.stderr
