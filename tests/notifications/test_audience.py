from api_client.models import RequestStatus
from bot.services.audience import (
    Notice,
    NoticeKind,
    Recipient,
    RecipientRole,
    StatusChange,
    decide,
)
from storage.enums import NotifyMode

S = RequestStatus
K = NoticeKind
ALL_STATUSES = [
    S.REGISTERED,
    S.PRE_PROCESSING,
    S.DELAYED,
    S.PROCESSING,
    S.POST_PROCESSING,
    S.PROCESSED,
]
COORD = Recipient(chat_id=1, role=RecipientRole.COORDINATOR)
DOC_A = Recipient(chat_id=2, role=RecipientRole.DOCTOR)
DOC_B = Recipient(chat_id=3, role=RecipientRole.DOCTOR, lang="en")
TEAM = -100


def _per_chat(notices: list[Notice]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for n in notices:
        out.setdefault(n.recipient.chat_id, []).append((n.kind.value, n.status.value))
    return out


def test_essentials_over_a_whole_life() -> None:
    changes = [StatusChange(s) for s in ALL_STATUSES]
    notices = decide(
        changes, coordinator=COORD, doctors=[DOC_A, DOC_B], team_chat_id=TEAM, card_chat_id=1
    )
    chats = _per_chat(notices)
    assert chats[1] == [
        ("started", "Processing"),
        ("finished", "Processed"),
        ("card", "Processed"),  # one card edit for the batch, after the messages
    ]
    assert chats[2] == chats[3] == [("booked", "Registered"), ("delayed", "Delayed")]
    assert chats[TEAM] == [("team", s.value) for s in ALL_STATUSES]


def test_unsuccessful_reaches_everyone_even_muted() -> None:
    muted_coord = Recipient(chat_id=1, role=RecipientRole.COORDINATOR, mode=NotifyMode.MUTED)
    muted_doc = Recipient(chat_id=2, role=RecipientRole.DOCTOR, mode=NotifyMode.MUTED)
    notices = decide(
        [StatusChange(S.PROCESSING), StatusChange(S.UNSUCCESSFUL)],
        coordinator=muted_coord,
        doctors=[muted_doc],
    )
    assert _per_chat(notices) == {1: [("failed", "Unsuccessful")], 2: [("failed", "Unsuccessful")]}


def test_terminate_by_coordinator_is_told_to_the_doctor_as_such() -> None:
    notices = decide(
        [StatusChange(S.UNSUCCESSFUL, terminated=True)], coordinator=COORD, doctors=[DOC_A]
    )
    assert _per_chat(notices) == {
        1: [("failed", "Unsuccessful")],
        2: [("terminated", "Unsuccessful")],
    }


def test_all_mode_hears_every_change() -> None:
    coord = Recipient(chat_id=1, role=RecipientRole.COORDINATOR, mode=NotifyMode.ALL)
    doc = Recipient(chat_id=2, role=RecipientRole.DOCTOR, mode=NotifyMode.ALL)
    notices = decide([StatusChange(s) for s in ALL_STATUSES], coordinator=coord, doctors=[doc])
    chats = _per_chat(notices)
    assert [s for _, s in chats[1]] == [s.value for s in ALL_STATUSES]
    assert [s for _, s in chats[2]] == [s.value for s in ALL_STATUSES]
    assert ("finished", "Processed") in chats[2]  # the doctor gets the conclusion button too


def test_started_elsewhere_nobody_subscribed_and_no_card() -> None:
    notices = decide([StatusChange(S.PROCESSING)], coordinator=None, card_chat_id=5)
    assert notices == []


def test_coordinator_who_is_also_the_linked_doctor_hears_once() -> None:
    also_doctor = Recipient(chat_id=1, role=RecipientRole.DOCTOR)
    notices = decide([StatusChange(S.UNSUCCESSFUL)], coordinator=COORD, doctors=[also_doctor])
    assert _per_chat(notices) == {1: [("failed", "Unsuccessful")]}


def test_dedupe_keys() -> None:
    first = Notice(K.STARTED, COORD, S.PROCESSING)
    again = Notice(K.DELAYED, DOC_A, S.DELAYED, occurrence=2)
    team = Notice(K.TEAM, Recipient(TEAM, RecipientRole.TEAM), S.PROCESSING)
    card = Notice(K.CARD, COORD, S.PROCESSING)
    assert first.dedupe_key(7) == "cons:7:status:Processing:to:1"
    assert again.dedupe_key(7) == "cons:7:status:Delayed.2:to:2"
    assert team.dedupe_key(7) == "cons:7:team:Processing:to:-100"
    assert card.dedupe_key(7, card_version=3) == "cons:7:card:3:to:1"


def test_no_changes_no_notices() -> None:
    assert decide([], coordinator=COORD, doctors=[DOC_A], team_chat_id=TEAM, card_chat_id=1) == []


def test_delayed_right_after_registered_is_part_of_the_booking_for_the_doctor() -> None:
    """A scheduled booking goes Registered → Delayed: the doctor's "booked" already carries
    the time, so no "postponed" follows it; a Delayed after anything else is a real
    postponement and is told."""
    all_mode = Recipient(chat_id=4, role=RecipientRole.DOCTOR, mode=NotifyMode.ALL)
    booking = [StatusChange(S.REGISTERED), StatusChange(S.DELAYED, after=S.REGISTERED)]
    chats = _per_chat(decide(booking, coordinator=COORD, doctors=[DOC_A, all_mode]))
    assert chats[2] == chats[4] == [("booked", "Registered")]
    # Told later, in a batch of its own (the start was announced at an earlier look).
    alone = decide([StatusChange(S.DELAYED, after=S.REGISTERED)], coordinator=None, doctors=[DOC_A])
    assert alone == []
    moved = decide(
        [StatusChange(S.DELAYED, occurrence=2, after=S.PRE_PROCESSING)],
        coordinator=None,
        doctors=[DOC_A],
    )
    assert _per_chat(moved) == {2: [("delayed", "Delayed")]}
