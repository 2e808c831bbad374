"""The access matrix, end to end: every role × every action through the real dispatcher,
the fake Telegram and the sandbox partner API (issue 11).

Each cell (``<role>-<action>``) asserts: allowed exactly where the matrix of
bot/services/access.py says (``expected`` asks the policy itself, for the actor as stored
when the action arrives); a refusal is a short sentence — an alert or a message, never
silence, never the apology of an exception; and no start-callback (terminate-callback)
request reaches the sandbox for anyone who may not start (terminate). Users whose role
changes (demoted coordinator, revoked account) draw their screens first and press the old
buttons after the admin changed them through /users. ``replay-<role>`` presses, as that
role, every button the bot drew for anyone in the test.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.sandbox import SandboxServer
from bot.callback_data import (
    CardCallback,
    ConclusionCallback,
    ConsAction,
    ConsCallback,
    DoctorsAction,
    DoctorsCb,
    StartAgainCallback,
    UsersAction,
    UsersCb,
)
from bot.i18n import I18n
from bot.services.access import Action
from storage.migrate import upgrade
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.users import UserRepository
from tests.access.matrix_actions import (
    ACTIONS,
    STARTS,
    TERMINATES,
    confirm_if_wizard,
    may_at_draw_time,
    own_list_row,
)
from tests.access.matrix_world import (
    DOCTOR_ID,
    ROLES,
    Seen,
    Watch,
    World,
    drawn_callback_data,
    drive_wizard_to_confirm,
    expected,
    find_data,
)
from tests.bot_fixtures import BotHarness
from tests.fake_telegram import CallbackQueryRecord

DIALOG_SEP = "\x1d"  # aiogram-dialog's separator of intent id and widget id
SHORT = 200  # characters: "one short sentence" (the no-access answer carries an id too)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database for the whole file: each cell starts from a copy of it
    (running the migrations for each of the ~150 cells would be most of their time)."""
    path = tmp_path_factory.mktemp("matrix") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path) -> str:
    shutil.copyfile(migrated_template, tmp_path / "bot.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def doctor_routes() -> bool:
    """The sandbox with its doctor routes (no extra id part in every cell's name)."""
    return True


@pytest.fixture
async def world(
    running_bot: BotHarness,
    sandbox: SandboxServer,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
) -> World:
    w = World(running_bot.fake_tg, sandbox, session_factory, i18n, running_bot.settings.admin_ids)
    await w.add_users()
    return w


CELLS = [(role, action) for role in ROLES for action in ACTIONS]


def _no_traceback(caplog: pytest.LogCaptureFixture, w: World, seen: Seen) -> None:
    # asyncio's "Unclosed client session" reports are left out: the garbage collector
    # files them for an earlier test's leftovers at whatever moment it runs.
    failed = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name != "asyncio"
    ]
    assert failed == [], failed
    assert w.refusals.apology not in [t.strip() for t in seen.all]


def _refused_briefly(w: World, seen: Seen, cell: str) -> None:
    short = [text for text in seen.all if text in w.refusals and len(text) <= SHORT]
    assert short, f"{cell}: refused without a short sentence (silence?): {seen}"


@pytest.mark.parametrize(
    ("role", "action"), CELLS, ids=[f"{role}-{action}" for role, action in CELLS]
)
async def test_cell(world: World, role: str, action: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    spec, (policy_action, step) = ROLES[role], ACTIONS[action]
    user = world.user(spec)
    may = expected(spec, policy_action, world.admin_ids)
    outcome = await step(world, spec, user)
    cell = f"{role}-{action}"
    _no_traceback(caplog, world, outcome.seen)
    if may:
        assert outcome.allowed, f"{cell}: the matrix allows it, the bot did not: {outcome.seen}"
    else:
        assert not outcome.allowed, f"{cell}: the matrix refuses it, the bot did it"
        _refused_briefly(world, outcome.seen, cell)
    if not expected(spec, Action.START, world.admin_ids):
        # Whatever screen the action left open, its Confirm starts nothing.
        await confirm_if_wizard(user, Seen())
    if not (may and action in STARTS):
        assert world.count("start") == 0, f"{cell}: a start reached the partner API"
    if not (may and action in TERMINATES):
        assert world.count("terminate") == 0, f"{cell}: a terminate reached the partner API"
    await _admin_data_intact(world)


async def _admin_data_intact(w: World) -> None:
    async with w.session_factory() as session:
        assert await UserRepository(session).get(ROLES["doctor_other"].telegram_id) is not None
        assert await DoctorDirectoryRepository(session).get(DOCTOR_ID) is not None


# ------------------------------------------------------------------ replay


async def _draw_everything(w: World) -> None:
    """Every screen the bot draws, for the admin, the coordinator and the doctor."""
    await w.add_consultations()
    admin, coordinator = w.admin, w.user(ROLES["coordinator"])
    doctor = w.user(ROLES["doctor_this"])
    await admin.send_command("invite")
    await admin.send_command("users")
    await admin.press_data(UsersCb(action=UsersAction.OPEN, user_id=coordinator.id).pack())
    await admin.press_data(UsersCb(action=UsersAction.REVOKE, user_id=doctor.id).pack())
    await admin.send_command("doctors")
    await admin.press_data(DoctorsCb(action=DoctorsAction.OPEN, doctor_id=DOCTOR_ID).pack())
    await admin.press_data(DoctorsCb(action=DoctorsAction.REMOVE, doctor_id=DOCTOR_ID).pack())
    await admin.send_command("find", "nobody-matches-this")  # empty: "➕ Start a consultation"
    for user in (admin, coordinator, doctor):
        row = await own_list_row(user, w.live_id)
        assert row is not None
        await user.press_data(row[1], row[0])
        for ask in (ConsAction.TERMINATE, ConsAction.RESCHEDULE):
            asked = find_data(user, lambda d, _t, a=ask: d.startswith(f"cons:1:{a.value}:"))
            if asked is not None:
                await user.press_data(asked[1], asked[0])
    await coordinator.send_command("start_callback")
    assert await drive_wizard_to_confirm(coordinator), coordinator.last_bot_message()


def _action_of(data: str) -> Action | None:
    """The policy's action behind a button (None: a dialog's own widget, or harmless)."""
    if DIALOG_SEP in data:  # aiogram-dialog: "<intent id>\x1d<widget id>[:<item>]"
        widget = data.split(DIALOG_SEP, 1)[1]
        if widget.startswith("row:"):
            return Action.VIEW  # a list row opens the card
        if widget == "start" or widget.startswith("confirm"):
            return Action.START  # "➕ Start a consultation", the wizard's Confirm
        return None
    prefix = data.split(":", 1)[0]
    if prefix == "cons":
        act = ConsCallback.unpack(data).act
    elif prefix == "card":
        act = ConsAction(CardCallback.unpack(data).action.value)  # type: ignore[arg-type]
    else:
        return {
            "concl": Action.READ_CONCLUSION,
            "again": Action.START,
            "ainv": Action.INVITE,
            "aus": Action.MANAGE_USERS,
        }.get(prefix) or (
            Action.MANAGE_DOCTORS if prefix == "adr" and ":cancel" not in data else None
        )
    return {
        ConsAction.REFRESH: Action.REFRESH,
        ConsAction.CONFIRM_NO: Action.VIEW,
        ConsAction.TERMINATE: Action.TERMINATE,
        ConsAction.TERMINATE_YES: Action.TERMINATE,
        ConsAction.RESCHEDULE: Action.RESCHEDULE,
        ConsAction.RESCHEDULE_YES: Action.RESCHEDULE,
        ConsAction.REPEAT: Action.REPEAT,
        ConsAction.CANT_TAKE: Action.CANT_TAKE,
    }[act]


def _said_something(query: CallbackQueryRecord, seen: Seen) -> None:
    assert query.answered or seen.texts, "silence"


@pytest.mark.parametrize("role", list(ROLES), ids=[f"replay-{role}" for role in ROLES])
async def test_replay_every_button(
    world: World, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    spec = ROLES[role]
    user = world.user(spec)
    await _draw_everything(world)
    if spec.draws and spec.name not in ("admin", "coordinator", "doctor_this"):
        # Their own screens, stale once their role changes: a list, and (when they may
        # start now) an empty list's "➕" and a wizard's summary.
        await own_list_row(user, world.live_id)
        if may_at_draw_time(spec, Action.START, world):
            await user.send_command("find", "nobody-matches-this")
            await user.send_command("start_callback")
            assert await drive_wizard_to_confirm(user), user.last_bot_message()
    extra = [
        ConclusionCallback(cid=world.done_id).pack(),  # pushes' buttons
        StartAgainCallback(cid=world.done_id).pack(),
    ]
    drawn = drawn_callback_data(world.tg) + [(0, data) for data in extra]
    # Their own Confirm first, then the others': a stale or foreign dialog button resets
    # the presser's dialog stack, and the old summary's Confirm is the press that matters
    # most (the path a).
    drawn.sort(key=lambda item: (f"{DIALOG_SEP}confirm" not in item[1], item[0] != user.id))
    assert len(drawn) > 30, drawn  # every screen above drew its buttons
    world.sb.clear_requests()
    await world.change_role(spec)
    await world.has_message(user)
    problems: list[str] = []  # every press is tried: the report lists all that fail
    for chat_id, data in drawn:
        if data.startswith("aus:") and ":ry:" in data:
            continue  # a revoke confirmation would change the world under the replay
        watch = Watch(user)
        starts = world.count("start")
        query = await user.press_data(data)
        seen = watch.seen(query)
        press = f"{data!r} (drawn in chat {chat_id})"
        action = _action_of(data)
        foreign_dialog = action is None and chat_id != user.id and DIALOG_SEP in data
        refused = action is not None and not expected(spec, action, world.admin_ids)
        checks: list[Callable[[], object]] = [
            partial(_no_traceback, caplog, world, seen),
            partial(_said_something, query, seen),
        ]
        if foreign_dialog or refused:
            checks.append(partial(_refused_briefly, world, seen, "refused"))
        for check in checks:
            try:
                check()
            except AssertionError as exc:
                problems.append(f"{press}: {str(exc).splitlines()[0][:200]}")
        if not expected(spec, Action.START, world.admin_ids):
            await confirm_if_wizard(user, Seen())
            if world.count("start") != starts:
                problems.append(f"{press}: a start reached the partner API")
        caplog.clear()
    if not expected(spec, Action.TERMINATE, world.admin_ids) and world.count("terminate"):
        problems.append("a terminate reached the partner API")
    assert not problems, f"replay-{role}:\n" + "\n".join(problems)
