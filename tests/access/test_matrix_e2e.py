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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from aiogram import Router
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.sandbox import SandboxServer
from bot.callback_data import CardCallback
from bot.dialogs.consultations_list.callback_data import ConsAction, ConsCallback
from bot.i18n import I18n
from bot.keyboards.access import DoctorsAction, DoctorsCb, InvitePick, UsersAction, UsersCb
from bot.notifications.callback_data import ConclusionCallback, StartAgainCallback
from bot.routers import conclusion, start_callback
from bot.services.access import Action
from storage.migrate import upgrade
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.users import UserRepository
from tests.access.matrix_world import (
    DOCTOR_ID,
    LIVE_PATIENT,
    REPORT,
    ROLES,
    Refusals,
    RoleSpec,
    Seen,
    Watch,
    World,
    drawn_callback_data,
    drive_wizard_to_confirm,
    expected,
    find_data,
)
from tests.bot_fixtures import BotHarness
from tests.fake_telegram import CallbackQueryRecord, FakeUser

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
def extra_routers() -> list[Router]:
    # As in production (bot/wizard_runtime.py, bot/notifications/runtime.py).
    return [start_callback.setup(), conclusion.setup()]


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


@dataclass
class Outcome:
    allowed: bool
    seen: Seen = field(default_factory=Seen)


Step = Callable[[World, RoleSpec, FakeUser], Awaitable[Outcome]]


# ------------------------------------------------------------------ drawing screens


def _may_at_draw_time(spec: RoleSpec, action: Action, w: World) -> bool:
    """What the user could do when they drew their screens (before any role change)."""
    before = RoleSpec(spec.name, spec.telegram_id, spec.stored, spec.doctor_id)
    return spec.draws and expected(before, action, w.admin_ids)


async def _own_list_row(user: FakeUser, cid: int) -> tuple[int, str] | None:
    await user.send_command("list")
    return find_data(user, lambda data, _text: "row" in data and data.endswith(f":{cid}"))


async def _live_card(w: World, spec: RoleSpec, user: FakeUser) -> bool:
    """Open the scheduled consultation's card from the user's own list; False when the
    user could not (then the press is forged)."""
    if not _may_at_draw_time(spec, Action.VIEW, w):
        return False
    row = await _own_list_row(user, w.live_id)
    assert row is not None, f"{spec.name} does not see the consultation in /list"
    await user.press_data(row[1], row[0])
    assert LIVE_PATIENT in user.last_bot_message().content
    return True


async def _press(
    w: World, spec: RoleSpec, user: FakeUser, target: tuple[int | None, str]
) -> tuple[CallbackQueryRecord, Seen]:
    """The role change (if any), then the press, and what the user saw."""
    await w.change_role(spec)
    await w.has_message(user)
    watch = Watch(user)
    query = await user.press_data(target[1], target[0])
    return query, watch.seen(query)


async def _command(
    w: World, spec: RoleSpec, user: FakeUser, command: str, args: str | None = None
) -> Seen:
    await w.change_role(spec)
    watch = Watch(user)
    await user.send_command(command, args)
    return watch.seen()


async def _confirm_if_wizard(user: FakeUser, seen: Seen) -> bool:
    """If a wizard is open for the user, walk it to Confirm and press it."""
    if not await drive_wizard_to_confirm(user):
        return False
    watch = Watch(user)
    query = await user.press("✅ Confirm")
    later = watch.seen(query)
    seen.texts += later.texts
    seen.alerts += later.alerts
    return True


# ------------------------------------------------------------------ the actions


async def start(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    seen = await _command(w, spec, user, "start_callback")
    return Outcome(any("Step 1: the doctor" in text for text in seen.texts), seen)


async def start_confirm(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    before = w.count("start")
    if _may_at_draw_time(spec, Action.START, w):
        # The path (a): the summary is open, then the role changes, then Confirm.
        await user.send_command("start_callback")
        assert await drive_wizard_to_confirm(user), user.last_bot_message().content
        target = find_data(user, lambda _data, text: text == "✅ Confirm")
        assert target is not None
        _, seen = await _press(w, spec, user, target)
    else:
        # Not theirs to start: a wizard could still open from a pushed "Start again"
        # button (forged here); if it does, its Confirm must start nothing.
        await w.add_consultations()
        _, seen = await _press(w, spec, user, (None, StartAgainCallback(cid=w.done_id).pack()))
        await _confirm_if_wizard(user, seen)
    return Outcome(w.count("start") > before, seen)


async def start_empty_list(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    """The issue's path (b): "➕ Start a consultation" under an empty /list."""
    before = w.count("start")
    target: tuple[int | None, str] | None = None
    if spec.draws:
        await user.send_command("list")
        target = find_data(user, lambda _data, text: text == "➕ Start a consultation")
    if target is None:  # not drawn for them: the admin's button, pressed in their chat
        await w.admin.send_command("list")
        drawn = find_data(w.admin, lambda _data, text: text == "➕ Start a consultation")
        assert drawn is not None
        target = (None, drawn[1])
    _, seen = await _press(w, spec, user, target)
    await _confirm_if_wizard(user, seen)
    return Outcome(w.count("start") > before, seen)


def _answered(seen: Seen, refusals: Refusals) -> bool:
    return any(text and text not in refusals for text in seen.all)


async def list_(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    seen = await _command(w, spec, user, "list")
    return Outcome(_answered(seen, w.refusals), seen)


async def find(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    seen = await _command(w, spec, user, "find", "Livia")
    return Outcome(_answered(seen, w.refusals), seen)


async def view(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    row = await _own_list_row(user, w.live_id) if spec.draws else None
    if row is None:  # not in their list: the admin's row, pressed in their chat
        row = await _own_list_row(w.admin, w.live_id)
        assert row is not None
        row = (None, row[1])  # type: ignore[assignment]
    _, seen = await _press(w, spec, user, row)  # type: ignore[arg-type]
    return Outcome(any(LIVE_PATIENT in text for text in seen.texts), seen)


def _card_step(act: ConsAction, ask: ConsAction | None, marker: Callable[[World, Seen], bool]):
    """A card button of the scheduled consultation (``ask`` first for a confirmation)."""

    async def step(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
        await w.add_consultations()
        target: tuple[int | None, str] | None = None
        if await _live_card(w, spec, user):
            if ask is not None:
                asked = find_data(user, lambda d, _t: d.startswith(f"cons:1:{ask.value}:"))
                if asked is not None:
                    await user.press_data(asked[1], asked[0])
            target = find_data(user, lambda d, _t: d.startswith(f"cons:1:{act.value}:"))
        if target is None:  # not on their screen: the same data, forged
            target = (None, ConsCallback(act=act, cid=w.live_id).pack())
        w.gets_before = w.count("get")
        _, seen = await _press(w, spec, user, target)
        return Outcome(marker(w, seen), seen)

    return step


def _shows(fragment: str) -> Callable[[World, Seen], bool]:
    return lambda _w, seen: any(fragment in text for text in seen.all)


def _fetched(w: World, seen: Seen) -> bool:
    # The card is drawn again from a fresh look at the partner API (its text may well be
    # unchanged, so the edit itself proves nothing).
    return w.count("get") > w.gets_before and not any(text in w.refusals for text in seen.all)


def _terminated(w: World, _seen: Seen) -> bool:
    return w.count("terminate") > 0


async def repeat(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    data = ConsCallback(act=ConsAction.REPEAT, cid=w.done_id).pack()
    _, seen = await _press(w, spec, user, (None, data))
    return Outcome(any("Step 4: when to start?" in text for text in seen.texts), seen)


async def read_conclusion(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    _, seen = await _press(w, spec, user, (None, ConclusionCallback(cid=w.done_id).pack()))
    return Outcome(any(REPORT in text for text in seen.texts), seen)


async def cant_take(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    data = ConsCallback(act=ConsAction.CANT_TAKE, cid=w.live_id).pack()
    _, seen = await _press(w, spec, user, (None, data))
    return Outcome("The coordinator has been told." in seen.alerts, seen)


def _admin_step(command: str, args: str | None, marker: str, press: str, pressed: str):
    """An admin command, then a button of the admin's screens pressed by the role."""

    async def step(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
        seen = await _command(w, spec, user, command, args)
        by_command = any(marker in text for text in seen.all)
        _, pressed_seen = await _press(w, spec, user, (None, press))
        by_press = any(pressed in text for text in pressed_seen.all)
        assert by_command == by_press, (seen, pressed_seen)
        return Outcome(by_command, Seen(seen.texts + pressed_seen.texts, pressed_seen.alerts))

    return step


ACTIONS: dict[str, tuple[Action, Step]] = {
    "start": (Action.START, start),
    "start_confirm": (Action.START, start_confirm),
    "start_empty_list": (Action.START, start_empty_list),
    "list": (Action.LIST, list_),
    "find": (Action.FIND, find),
    "view": (Action.VIEW, view),
    "refresh": (
        Action.REFRESH,
        _card_step(ConsAction.REFRESH, None, _fetched),
    ),
    "terminate": (
        Action.TERMINATE,
        _card_step(ConsAction.TERMINATE, None, _shows("Terminate the consultation of")),
    ),
    "terminate_confirm": (
        Action.TERMINATE,
        _card_step(ConsAction.TERMINATE_YES, ConsAction.TERMINATE, _terminated),
    ),
    "reschedule": (
        Action.RESCHEDULE,
        _card_step(ConsAction.RESCHEDULE, None, _shows("Reschedule: the consultation of")),
    ),
    "reschedule_confirm": (
        Action.RESCHEDULE,
        _card_step(ConsAction.RESCHEDULE_YES, ConsAction.RESCHEDULE, _terminated),
    ),
    "repeat": (Action.REPEAT, repeat),
    "read_conclusion": (Action.READ_CONCLUSION, read_conclusion),
    "cant_take": (Action.CANT_TAKE, cant_take),
    "invite": (
        Action.INVITE,
        _admin_step(
            "invite",
            "coordinator",
            "t.me/test_bot?start=",
            InvitePick(role="coordinator").pack(),
            "t.me/test_bot?start=",
        ),
    ),
    "manage_users": (
        Action.MANAGE_USERS,
        _admin_step(
            "users",
            None,
            "Users:",
            UsersCb(action=UsersAction.OPEN, user_id=ROLES["coordinator"].telegram_id).pack(),
            f"Telegram id: {ROLES['coordinator'].telegram_id}",
        ),
    ),
    "manage_doctors": (
        Action.MANAGE_DOCTORS,
        _admin_step(
            "doctors",
            None,
            "Doctors:",
            DoctorsCb(action=DoctorsAction.OPEN, doctor_id=DOCTOR_ID).pack(),
            f"Doctor id: {DOCTOR_ID}",
        ),
    ),
}

STARTS = {"start", "start_confirm", "start_empty_list"}
TERMINATES = {"terminate_confirm", "reschedule_confirm"}
CELLS = [(role, action) for role in ROLES for action in ACTIONS]


def _no_traceback(caplog: pytest.LogCaptureFixture, w: World, seen: Seen) -> None:
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == [], failed
    assert w.refusals.apology not in [t.strip() for t in seen.all]


def _refused_briefly(w: World, seen: Seen, cell: str) -> None:
    short = [text for text in seen.all if text in w.refusals and len(text) <= SHORT]
    assert short, f"{cell}: refused without a short sentence (silence?): {seen}"


@pytest.mark.parametrize(
    ("role", "action"), CELLS, ids=[f"{role}-{action}" for role, action in CELLS]
)
async def test_cell(
    world: World, role: str, action: str, caplog: pytest.LogCaptureFixture
) -> None:
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
        await _confirm_if_wizard(user, Seen())
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
        row = await _own_list_row(user, w.live_id)
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
        await _own_list_row(user, world.live_id)
        if _may_at_draw_time(spec, Action.START, world):
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
            await _confirm_if_wizard(user, Seen())
            if world.count("start") != starts:
                problems.append(f"{press}: a start reached the partner API")
        caplog.clear()
    if not expected(spec, Action.TERMINATE, world.admin_ids) and world.count("terminate"):
        problems.append("a terminate reached the partner API")
    assert not problems, f"replay-{role}:\n" + "\n".join(problems)
