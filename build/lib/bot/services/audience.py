"""Who hears what (DESIGN.md): a pure decision, no Telegram, no database.

Given a consultation, its new status events and its recipients with their notify modes,
it returns the notices to queue. A message nobody needs teaches people to mute the bot, so
the default ("essentials") is narrow:

- the coordinator who started it: the call started (Processing), finished (Processed, with
  the "conclusion ready" button), did not take place (Unsuccessful);
- the doctor's linked accounts: booked (Registered / Delayed, with time and duration), did
  not take place (Unsuccessful), terminated by a coordinator;
- every change edits the coordinator's card in place (one edit per batch of changes);
- the team chat gets a short line per change, without patient data.

"all" gives a recipient every change; "muted" keeps only failures (reminders are not
status changes and are decided elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from api_client.models import RequestStatus
from storage.enums import NotifyMode


class NoticeKind(StrEnum):
    STARTED = "started"  # coordinator: Processing
    FINISHED = "finished"  # Processed: conclusion ready (button)
    FAILED = "failed"  # Unsuccessful: did not take place
    TERMINATED = "terminated"  # doctor: Unsuccessful because a coordinator terminated it
    # Registered / Delayed: the doctor's "booked" / "postponed"; a coordinator in "all" mode
    # gets them in a coordinator's wording (messages.py).
    BOOKED = "booked"
    DELAYED = "delayed"
    STATUS = "status"  # any other change, for "all"
    TEAM = "team"  # the team chat's short line
    CARD = "card"  # the coordinator's card, edited in place


class RecipientRole(StrEnum):
    COORDINATOR = "coordinator"
    DOCTOR = "doctor"
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    role: RecipientRole
    lang: str = "ru"
    timezone: str | None = None  # None: the deployment's default
    mode: NotifyMode = NotifyMode.ESSENTIALS


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: RequestStatus
    # 1 for the first time this status appears in the history, 2 for the second...; part of
    # the dedupe key so a status that really repeats (Delayed again) is told again.
    occurrence: int = 1
    # Unsuccessful because a coordinator terminated it through the bot.
    terminated: bool = False
    # The status just before it (None: not known). Delayed right after Registered is how a
    # scheduled booking looks: part of the booking, not a postponement.
    after: RequestStatus | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    recipient: Recipient
    status: RequestStatus
    occurrence: int = 1

    def dedupe_key(self, consultation_id: int, *, card_version: int = 0) -> str:
        suffix = "" if self.occurrence == 1 else f".{self.occurrence}"
        if self.kind is NoticeKind.CARD:
            return f"cons:{consultation_id}:card:{card_version}:to:{self.recipient.chat_id}"
        channel = "team" if self.kind is NoticeKind.TEAM else "status"
        return (
            f"cons:{consultation_id}:{channel}:{self.status.value}{suffix}"
            f":to:{self.recipient.chat_id}"
        )


_COORDINATOR_ESSENTIALS: dict[RequestStatus, NoticeKind] = {
    RequestStatus.PROCESSING: NoticeKind.STARTED,
    RequestStatus.PROCESSED: NoticeKind.FINISHED,
    RequestStatus.UNSUCCESSFUL: NoticeKind.FAILED,
}
_DOCTOR_ESSENTIALS: dict[RequestStatus, NoticeKind] = {
    RequestStatus.REGISTERED: NoticeKind.BOOKED,
    RequestStatus.DELAYED: NoticeKind.DELAYED,
    RequestStatus.UNSUCCESSFUL: NoticeKind.FAILED,
}


def _personal_kind(recipient: Recipient, change: StatusChange) -> NoticeKind | None:
    status = change.status
    if status is RequestStatus.UNSUCCESSFUL:
        # Failures reach everyone, muted included.
        if recipient.role is RecipientRole.DOCTOR and change.terminated:
            return NoticeKind.TERMINATED
        return NoticeKind.FAILED
    if recipient.mode is NotifyMode.MUTED:
        return None
    if (
        recipient.role is RecipientRole.DOCTOR
        and status is RequestStatus.DELAYED
        and change.after is RequestStatus.REGISTERED
    ):
        # The doctor's "booked" already gave the time and duration (DESIGN lists only it).
        return None
    essentials = (
        _COORDINATOR_ESSENTIALS
        if recipient.role is RecipientRole.COORDINATOR
        else _DOCTOR_ESSENTIALS
    )
    kind = essentials.get(status)
    if kind is not None:
        return kind
    if recipient.mode is NotifyMode.ALL:
        if status is RequestStatus.PROCESSED:
            return NoticeKind.FINISHED  # with the conclusion button for the doctor too
        if status is RequestStatus.REGISTERED:
            return NoticeKind.BOOKED
        if status is RequestStatus.DELAYED:
            return NoticeKind.DELAYED
        return NoticeKind.STATUS
    return None


def decide(
    changes: Sequence[StatusChange],
    *,
    coordinator: Recipient | None,
    doctors: Sequence[Recipient] = (),
    team_chat_id: int | None = None,
    card_chat_id: int | None = None,
) -> list[Notice]:
    """The notices for `changes` (oldest first), in the order they should be sent.

    `coordinator` is None for a consultation started outside the bot: nobody is subscribed
    to it. `card_chat_id` is where the coordinator's card message lives (None: no card to edit).
    """
    notices: list[Notice] = []
    if not changes:
        return notices
    people: list[Recipient] = []
    if coordinator is not None:
        people.append(coordinator)
    seen_chats = {coordinator.chat_id} if coordinator is not None else set()
    for doctor in doctors:
        # An account that is both the coordinator and a linked doctor hears it once.
        if doctor.chat_id not in seen_chats:
            seen_chats.add(doctor.chat_id)
            people.append(doctor)

    for change in changes:
        for person in people:
            kind = _personal_kind(person, change)
            if kind is not None:
                notices.append(Notice(kind, person, change.status, change.occurrence))
        if team_chat_id is not None:
            team = Recipient(chat_id=team_chat_id, role=RecipientRole.TEAM)
            notices.append(Notice(NoticeKind.TEAM, team, change.status, change.occurrence))
    if card_chat_id is not None and coordinator is not None:
        last = changes[-1]
        holder = Recipient(
            chat_id=card_chat_id,
            role=RecipientRole.COORDINATOR,
            lang=coordinator.lang,
            timezone=coordinator.timezone,
            mode=coordinator.mode,
        )
        notices.append(Notice(NoticeKind.CARD, holder, last.status, last.occurrence))
    return notices
