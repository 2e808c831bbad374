"""The world of the access-matrix test (tests/access/test_matrix_e2e.py): every role as a
Telegram user of the real dispatcher, two consultations of doctor 101 started by the
coordinator, and how to read what the bot answered to one action.

Roles are set up in the database directly (the invite flow has its own tests); the two
role changes the issue is about — a coordinator demoted to doctor, an account revoked —
are made by the admin through /users, after the user has drawn their screens.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api_client.sandbox import SandboxServer
from bot.callback_data import UsersAction, UsersCb
from bot.i18n import I18n, Translator
from bot.rendering.access_denied import denied_text
from bot.services.access import Action, Actor, Denial, allowed
from storage.enums import ConsultationState, EventSource, Role
from storage.hashing import new_secret
from storage.repositories import ConsultationRepository, StatusEventRepository, UserRepository
from storage.repositories.doctors import DoctorDirectoryRepository
from tests.bot_fixtures import ADMIN_ID
from tests.fake_telegram import CallbackQueryRecord, FakeTelegram, FakeUser

DOCTOR_ID, OTHER_DOCTOR_ID = 101, 102
DOCTOR_BUTTON = "Иванова Мария Петровна · Терапевт"  # the sandbox's doctor 101
PHONE = "+7 916 000-00-01"  # no consultation has it: no "already has one" warning
LIVE_PATIENT = "Livia Matrixova"  # Delayed (scheduled): terminate, reschedule, can't take
DONE_PATIENT = "Dana Matrixova"  # Processed, with a conclusion: repeat, read conclusion
REPORT = "Conclusion text of the matrix test."
NEW_PATIENT = "Newton Matrixov"  # typed into the wizard


@dataclass(frozen=True)
class RoleSpec:
    name: str
    telegram_id: int
    stored: Role | None  # the row before the test acts (None: no row)
    doctor_id: int | None = None
    # Stored as it becomes before the action (by an admin through /users), after its
    # screens were drawn; None: unchanged. "revoked" deletes the row.
    becomes: str | None = None
    become_doctor_id: int | None = None

    @property
    def draws(self) -> bool:
        """Whether the user could draw screens of their own before the action (a stranger
        cannot; neither can an admin already taken out of ADMIN_IDS)."""
        return self.stored in (Role.COORDINATOR, Role.DOCTOR) or self.telegram_id == ADMIN_ID


ROLES: dict[str, RoleSpec] = {
    r.name: r
    for r in (
        RoleSpec("stranger", 6001, None),
        RoleSpec("revoked", 2003, Role.COORDINATOR, becomes="revoked"),
        RoleSpec("doctor_this", 3001, Role.DOCTOR, DOCTOR_ID),
        RoleSpec("doctor_other", 3002, Role.DOCTOR, OTHER_DOCTOR_ID),
        RoleSpec("coordinator", 2001, Role.COORDINATOR),
        RoleSpec(
            "coordinator_demoted",
            2002,
            Role.COORDINATOR,
            becomes="doctor",
            become_doctor_id=OTHER_DOCTOR_ID,
        ),
        RoleSpec("removed_admin", 5001, Role.ADMIN),  # not in ADMIN_IDS
        RoleSpec("admin", ADMIN_ID, Role.ADMIN),
    )
}
COORDINATOR_ID = ROLES["coordinator"].telegram_id


@dataclass(frozen=True)
class _Row:
    """What ``Actor.of`` reads of a stored user."""

    telegram_id: int
    role: Role
    doctor_id: int | None


@dataclass(frozen=True)
class _Consultation:
    coordinator_id: int | None = COORDINATOR_ID
    doctor_id: int | None = DOCTOR_ID


def actor_at_action(spec: RoleSpec, admin_ids: Iterable[int]) -> Actor:
    """The actor the policy sees when the action arrives (after any role change)."""
    if spec.becomes == "revoked" or spec.stored is None:
        return Actor.of(spec.telegram_id, None, admin_ids)
    if spec.becomes == "doctor":
        row = _Row(spec.telegram_id, Role.DOCTOR, spec.become_doctor_id)
    else:
        row = _Row(spec.telegram_id, spec.stored, spec.doctor_id)
    return Actor.of(spec.telegram_id, row, admin_ids)


def expected(spec: RoleSpec, action: Action, admin_ids: Iterable[int]) -> bool:
    """The matrix of bot/services/access.py, for both consultations of this world."""
    return allowed(actor_at_action(spec, admin_ids), action, _Consultation())


DEMO_MARK = "🧪 DEMO — no real calls"  # appended to every message in sandbox mode


def _plain(text: str) -> str:
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    return plain.replace(DEMO_MARK, "").strip()


class Refusals:
    """Every sentence the bot refuses with (the policy's, and those of today's checks in
    the routers and dialogs)."""

    # Besides the policy's own sentences: a button of an older layout or a forged one that
    # cannot even be read, and a consultation that is gone (the policy's NOT_YOURS text).
    STALE = (
        "list-not-found",
        "list-stale-button",
        "access-stale-button",
        "error-stale-button",
    )

    def __init__(self, t: Translator, user_ids: Iterable[int]) -> None:
        texts = {_plain(t(key)) for key in self.STALE}
        roles = [None, *(r.value for r in Role)]
        for action in Action:
            for role in roles:
                for reason in Denial:
                    texts.add(
                        _plain(
                            denied_text(t, reason=reason.value, action=action, role=role, user_id=0)
                        )
                    )
        for user_id in user_ids:
            texts.add(_plain(t("access-no-access", user_id=str(user_id))))
        self.texts = texts
        self.stale_dialog = _plain(t("error-stale-dialog"))
        self.apology = _plain(t("error-apology"))

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        plain = _plain(text)
        return plain in self.texts or plain.startswith(self.stale_dialog)


@dataclass
class Seen:
    """What one user saw after one step: new or edited messages, and the press's answer."""

    texts: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.alerts, *self.texts]


class Watch:
    """Snapshot of a chat; ``seen()`` tells what changed since (no sleeps: every user
    action returns once its update was handled)."""

    def __init__(self, user: FakeUser) -> None:
        self.user = user
        self.before = {m.message_id: len(m.history) for m in user.bot_messages()}

    def seen(self, *queries: CallbackQueryRecord) -> Seen:
        out = Seen()
        for m in self.user.bot_messages():
            if self.before.get(m.message_id) != len(m.history):
                out.texts.append(m.content)
        out.alerts = [q.text for q in queries if q.answered and q.text]
        return out


@dataclass
class World:
    tg: FakeTelegram
    sandbox: SandboxServer
    session_factory: async_sessionmaker[AsyncSession]
    i18n: I18n
    admin_ids: frozenset[int]
    refusals: Refusals = field(init=False)
    live_id: int = 0
    changed: set[str] = field(default_factory=set)
    gets_before: int = 0  # "get" requests before a press (a refresh is one more)
    done_id: int = 0

    def __post_init__(self) -> None:
        ids = [spec.telegram_id for spec in ROLES.values()]
        self.refusals = Refusals(self.i18n.translator("en"), ids)

    @property
    def sb(self) -> Any:
        return self.sandbox.sandbox

    def user(self, spec: RoleSpec) -> FakeUser:
        return self.tg.user(spec.telegram_id, first_name=spec.name, language_code="en")

    @property
    def admin(self) -> FakeUser:
        return self.user(ROLES["admin"])

    def count(self, route: str) -> int:
        return len(self.sb.requests_for(route))

    async def add_users(self) -> None:
        async with self.session_factory() as session:
            users = UserRepository(session)
            for spec in ROLES.values():
                if spec.stored is None:
                    continue
                await users.upsert(
                    spec.telegram_id, spec.stored, display_name=spec.name, doctor_id=spec.doctor_id
                )
                await users.set_language(spec.telegram_id, "en")
            await DoctorDirectoryRepository(session).upsert(DOCTOR_ID, "Иванова Мария Петровна")
            await session.commit()

    async def add_consultations(self) -> None:
        """(Once.) A scheduled one and a finished one with a conclusion, both of doctor 101 and
        started in the bot by the coordinator (the local rows as the wizard leaves them)."""
        if self.live_id:
            return
        live = self.sb.start_callback(
            doctor_id=DOCTOR_ID,
            phone=("7", "9099708593"),
            patient_full_name=LIVE_PATIENT,
            begin_at=datetime.now(UTC) + timedelta(hours=3),
        )
        await self.sb.set_status(live.id, "Delayed", notify=False)
        done = self.sb.start_callback(
            doctor_id=DOCTOR_ID, phone=("7", "9099708594"), patient_full_name=DONE_PATIENT
        )
        await self.sb.set_status(done.id, "Processing", "Processed", notify=False)
        self.sb.set_report(done.id, REPORT)
        self.live_id = await self._adopt(live.id)
        self.done_id = await self._adopt(done.id)

    async def _adopt(self, partner_id: str) -> int:
        record = self.sb.callbacks[partner_id]
        async with self.session_factory() as session:
            repo = ConsultationRepository(session)
            row = await repo.create_starting(
                new_secret(),
                coordinator_id=COORDINATOR_ID,
                doctor_id=record.doctor_id,
                doctor_name="Иванова Мария",
                patient_name=record.patient_name,
                patient_phone="+" + "".join(record.phone),
                begin_at=record.begin_at,
                duration_min=15,
            )
            await repo.bind_partner_id(row.id, partner_id, state=ConsultationState.ACTIVE)
            events = StatusEventRepository(session)
            for entry in record.statuses:
                await events.record(row.id, entry.status, entry.at, EventSource.START)
            if record.is_final:
                await repo.set_state(row.id, ConsultationState.FINAL)
            await session.commit()
            return row.id

    async def change_role(self, spec: RoleSpec) -> None:
        """The admin, through /users, makes the change the role is about (if any; once)."""
        if spec.becomes is None or spec.name in self.changed:
            return
        self.changed.add(spec.name)
        await self.admin.send_command("users")
        if spec.becomes == "revoked":
            data = UsersCb(action=UsersAction.REVOKE_OK, user_id=spec.telegram_id).pack()
        else:
            data = UsersCb(
                action=UsersAction.TO_DOCTOR,
                user_id=spec.telegram_id,
                doctor_id=spec.become_doctor_id or 0,
            ).pack()
        query = await self.admin.press_data(data)
        assert query.answered and not query.show_alert, query
        async with self.session_factory() as session:
            row = await UserRepository(session).get(spec.telegram_id)
        if spec.becomes == "revoked":
            assert row is None
        else:
            assert row is not None and row.role == Role.DOCTOR, row

    async def has_message(self, user: FakeUser) -> None:
        """A press needs a message in the presser's own chat to be pressed on."""
        if not user.bot_messages():
            await user.send_command("start")


async def drive_wizard_to_confirm(user: FakeUser, *, steps: int = 8) -> bool:
    """From whatever step the wizard shows, the shortest way to its summary; True when the
    Confirm button is there. Stops (False) at anything that is not a wizard step."""
    for _ in range(steps):
        if not user.bot_messages():
            return False
        last = user.last_bot_message()
        buttons = last.button_texts
        if "✅ Confirm" in buttons:
            return True
        if "⚡ Now → to confirmation" in buttons:
            await user.press("⚡ Now → to confirmation")
        elif "Continue anyway" in buttons:  # a prefilled phone with a consultation already
            await user.press("Continue anyway")
        elif DOCTOR_BUTTON in buttons:
            await user.press(DOCTOR_BUTTON)
        elif "Step 1: the doctor" in last.content:
            await user.send_text(str(DOCTOR_ID))
        elif "Step 2: the patient's phone" in last.content:
            await user.send_text(PHONE)
        elif "Step 3: the patient's full name" in last.content:
            await user.send_text(NEW_PATIENT)
        else:
            return False
    return False


def find_data(user: FakeUser, predicate: Any) -> tuple[int, str] | None:
    """(message id, callback data) of the newest button of ``user``'s chat that fits."""
    for message in reversed(user.bot_messages()):
        for button in message.buttons:
            if button.callback_data and predicate(button.callback_data, button.text):
                return message.message_id, button.callback_data
    return None


def drawn_callback_data(tg: FakeTelegram) -> list[tuple[int, str]]:
    """Every (chat, callback_data) the bot ever drew for anyone, current and edited away."""
    seen: dict[str, int] = {}
    for chat in tg.state.chats.values():
        for message in chat.messages.values():
            if not message.from_bot:
                continue
            markups = [message.reply_markup, *(r.reply_markup for r in message.history)]
            for markup in markups:
                for row in (markup or {}).get("inline_keyboard") or []:
                    for button in row:
                        data = button.get("callback_data")
                        if data:
                            seen.setdefault(data, chat.id)
    return sorted((chat, data) for data, chat in seen.items())
