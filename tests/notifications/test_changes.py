from datetime import UTC, datetime, timedelta

from api_client.models import Callback, RequestStatus
from bot.services.status_history import KnownEvent, history_of, new_events

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
S = RequestStatus


def _callback(*steps: tuple[str, int], current: str | None = None) -> Callback:
    statuses = [
        {
            "id": f"h{i}",
            "status": {"id": status, "name": "x"},
            "actor": {"id": "System"},
            "createdAtUtc": (T0 + timedelta(minutes=minute)).isoformat(),
        }
        for i, (status, minute) in enumerate(steps)
    ]
    body = {"id": "c-1", "statuses": statuses}
    if current or steps:
        body["status"] = {"id": current or steps[-1][0]}
    return Callback.model_validate(body)


def test_history_sorted_oldest_first_and_parsed() -> None:
    cb = _callback(("Processing", 5), ("Registered", 0), ("PreProcessing", 2))
    events = history_of(cb)
    assert [e.status for e in events] == [S.REGISTERED, S.PRE_PROCESSING, S.PROCESSING]
    assert events[0].occurred_at == T0
    assert events[0].actor == "System"


def test_nothing_new_when_all_stored() -> None:
    cb = _callback(("Registered", 0), ("Processing", 3))
    known = [KnownEvent(S.REGISTERED, T0), KnownEvent(S.PROCESSING, T0 + timedelta(minutes=3))]
    assert new_events(history_of(cb), known) == []


def test_two_statuses_passed_between_looks_are_both_new_in_order() -> None:
    cb = _callback(("Registered", 0), ("Processing", 3), ("PostProcessing", 9))
    fresh = new_events(history_of(cb), [KnownEvent(S.REGISTERED, T0)])
    assert [e.status for e in fresh] == [S.PROCESSING, S.POST_PROCESSING]


def test_start_event_stored_with_local_clock_still_matches() -> None:
    # The wizard records Registered with its own clock, not the partner's stamp.
    cb = _callback(("Registered", 0), ("Processing", 3))
    known = [KnownEvent(S.REGISTERED, T0 + timedelta(seconds=7))]
    assert [e.status for e in new_events(history_of(cb), known)] == [S.PROCESSING]


def test_repeated_status_is_new_the_second_time() -> None:
    cb = _callback(("Registered", 0), ("Delayed", 1), ("PreProcessing", 2), ("Delayed", 3))
    known = [
        KnownEvent(S.REGISTERED, T0),
        KnownEvent(S.DELAYED, T0 + timedelta(minutes=1)),
        KnownEvent(S.PRE_PROCESSING, T0 + timedelta(minutes=2)),
    ]
    fresh = new_events(history_of(cb), known)
    assert [(e.status, e.occurred_at) for e in fresh] == [(S.DELAYED, T0 + timedelta(minutes=3))]


def test_sub_second_precision_loss_does_not_duplicate() -> None:
    cb = _callback(("Registered", 0))
    known = [KnownEvent(S.REGISTERED, T0 + timedelta(microseconds=400_000))]
    assert new_events(history_of(cb), known) == []


def test_history_less_answer_falls_back_to_current_status() -> None:
    cb = Callback.model_validate({"id": "c-1", "status": {"id": "Processing"}, "statuses": []})
    events = history_of(cb)
    assert [e.status for e in events] == [S.PROCESSING]
    assert events[0].occurred_at is None
    # Once stored (with whatever time), the same answer brings nothing new.
    assert new_events(events, [KnownEvent(S.PROCESSING, T0)]) == []


def test_unknown_status_is_skipped() -> None:
    cb = _callback(("Registered", 0), ("Teleporting", 1))
    assert [e.status for e in history_of(cb)] == [S.REGISTERED]
