"""The actions of the access-matrix test (tests/access/test_matrix_e2e.py), each as the
shortest real path a user of that role has to it.

A step draws the screens the user could draw before their role changed (their own list,
card, wizard summary), lets the admin change the role (``World.change_role``), then does
the action — pressing their own old button where they had one, else the same callback data
pressed in their chat (forged or foreign) — and reports whether the bot did it and what the
user saw.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.callback_data import (
    ConclusionCallback,
    ConsAction,
    ConsCallback,
    DoctorsAction,
    DoctorsCb,
    InvitePick,
    InvitesAction,
    InvitesCb,
    StartAgainCallback,
    UsersAction,
    UsersCb,
)
from bot.services.access import Action
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
    drive_wizard_to_confirm,
    expected,
    find_data,
)
from tests.fake_telegram import CallbackQueryRecord, FakeUser


@dataclass
class Outcome:
    allowed: bool
    seen: Seen = field(default_factory=Seen)


Step = Callable[[World, RoleSpec, FakeUser], Awaitable[Outcome]]


# ------------------------------------------------------------------ drawing screens


def may_at_draw_time(spec: RoleSpec, action: Action, w: World) -> bool:
    """What the user could do when they drew their screens (before any role change)."""
    before = RoleSpec(spec.name, spec.telegram_id, spec.stored, spec.doctor_id)
    return spec.draws and expected(before, action, w.admin_ids)


async def own_list_row(user: FakeUser, cid: int) -> tuple[int, str] | None:
    await user.send_command("list")
    return find_data(user, lambda data, _text: "row" in data and data.endswith(f":{cid}"))


async def live_card(w: World, spec: RoleSpec, user: FakeUser) -> bool:
    """Open the scheduled consultation's card from the user's own list; False when the
    user could not (then the press is forged)."""
    if not may_at_draw_time(spec, Action.VIEW, w):
        return False
    row = await own_list_row(user, w.live_id)
    assert row is not None, f"{spec.name} does not see the consultation in /list"
    await user.press_data(row[1], row[0])
    assert LIVE_PATIENT in user.last_bot_message().content
    return True


async def press_as(
    w: World, spec: RoleSpec, user: FakeUser, target: tuple[int | None, str]
) -> tuple[CallbackQueryRecord, Seen]:
    """The role change (if any), then the press, and what the user saw."""
    await w.change_role(spec)
    await w.has_message(user)
    watch = Watch(user)
    query = await user.press_data(target[1], target[0])
    return query, watch.seen(query)


async def command_as(
    w: World, spec: RoleSpec, user: FakeUser, command: str, args: str | None = None
) -> Seen:
    await w.change_role(spec)
    watch = Watch(user)
    await user.send_command(command, args)
    return watch.seen()


async def confirm_if_wizard(user: FakeUser, seen: Seen) -> bool:
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
    seen = await command_as(w, spec, user, "start_callback")
    return Outcome(any("Step 1: the doctor" in text for text in seen.texts), seen)


async def start_confirm(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    before = w.count("start")
    if may_at_draw_time(spec, Action.START, w):
        # The path (a): the summary is open, then the role changes, then Confirm.
        await user.send_command("start_callback")
        assert await drive_wizard_to_confirm(user), user.last_bot_message().content
        target = find_data(user, lambda _data, text: text == "✅ Confirm")
        assert target is not None
        _, seen = await press_as(w, spec, user, target)
    else:
        # Not theirs to start: a wizard could still open from a pushed "Start again"
        # button (forged here); if it does, its Confirm must start nothing.
        await w.add_consultations()
        _, seen = await press_as(w, spec, user, (None, StartAgainCallback(cid=w.done_id).pack()))
        await confirm_if_wizard(user, seen)
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
    _, seen = await press_as(w, spec, user, target)
    await confirm_if_wizard(user, seen)
    return Outcome(w.count("start") > before, seen)


def answered(seen: Seen, refusals: Refusals) -> bool:
    return any(text and text not in refusals for text in seen.all)


async def list_(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    seen = await command_as(w, spec, user, "list")
    return Outcome(answered(seen, w.refusals), seen)


async def find(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    seen = await command_as(w, spec, user, "find", "Livia")
    return Outcome(answered(seen, w.refusals), seen)


async def view(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    row = await own_list_row(user, w.live_id) if spec.draws else None
    if row is None:  # not in their list: the admin's row, pressed in their chat
        row = await own_list_row(w.admin, w.live_id)
        assert row is not None
        row = (None, row[1])  # type: ignore[assignment]
    _, seen = await press_as(w, spec, user, row)  # type: ignore[arg-type]
    return Outcome(any(LIVE_PATIENT in text for text in seen.texts), seen)


def _card_step(
    act: ConsAction, ask: ConsAction | None, marker: Callable[[World, Seen], bool]
) -> Step:
    """A card button of the scheduled consultation (``ask`` first for a confirmation)."""

    async def step(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
        await w.add_consultations()
        target: tuple[int | None, str] | None = None
        if await live_card(w, spec, user):
            if ask is not None:
                asked = find_data(user, lambda d, _t: d.startswith(f"cons:1:{ask.value}:"))
                if asked is not None:
                    await user.press_data(asked[1], asked[0])
            target = find_data(user, lambda d, _t: d.startswith(f"cons:1:{act.value}:"))
        if target is None:  # not on their screen: the same data, forged
            target = (None, ConsCallback(act=act, cid=w.live_id).pack())
        w.gets_before = w.count("get")
        _, seen = await press_as(w, spec, user, target)
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
    _, seen = await press_as(w, spec, user, (None, data))
    return Outcome(any("Step 4: when to start?" in text for text in seen.texts), seen)


async def read_conclusion(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    _, seen = await press_as(w, spec, user, (None, ConclusionCallback(cid=w.done_id).pack()))
    return Outcome(any(REPORT in text for text in seen.texts), seen)


async def cant_take(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
    await w.add_consultations()
    data = ConsCallback(act=ConsAction.CANT_TAKE, cid=w.live_id).pack()
    _, seen = await press_as(w, spec, user, (None, data))
    return Outcome("The coordinator has been told." in seen.alerts, seen)


def _admin_step(command: str, args: str | None, marker: str, data: str, pressed: str) -> Step:
    """An admin command, then a button of the admin's screens pressed by the role."""

    async def step(w: World, spec: RoleSpec, user: FakeUser) -> Outcome:
        seen = await command_as(w, spec, user, command, args)
        by_command = any(marker in text for text in seen.all)
        _, pressed_seen = await press_as(w, spec, user, (None, data))
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
    "list_invites": (  # issue 12: "No open invites" / "Open invites: n"; a stale Revoke
        Action.INVITE,
        _admin_step(
            "invites",
            None,
            "pen invites",
            InvitesCb(action=InvitesAction.REVOKE_OK, invite_id=999_999).pack(),
            "Invite #999999 is gone already",
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
