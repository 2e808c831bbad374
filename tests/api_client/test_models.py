from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from api_client import Callback, CallbackPage, Doctor, Money, Phone, RequestStatus
from tests.api_client.conftest import CALLBACK_PAYLOAD, callback_payload


def test_realistic_callback_parses_with_every_field() -> None:
    cb = Callback.parse_payload(CALLBACK_PAYLOAD)

    assert cb.id == CALLBACK_PAYLOAD["id"]
    assert cb.status is not None and cb.status.id is RequestStatus.PROCESSED
    assert cb.status.name == "Завершено"
    assert cb.current_status is RequestStatus.PROCESSED
    # naive stamp with 7 fractional digits (.NET) → aware UTC, microseconds kept
    assert cb.created_at_utc == datetime(2017, 3, 22, 14, 39, 7, 123456, tzinfo=UTC)
    assert cb.patient_phone == Phone(code="7", number="9099708593")
    assert cb.patient_full_name == "Иванов Иван Иванович"
    assert cb.doctor_full_name == "Петрова Анна Сергеевна"
    # the misspelt costPerMinuite is read into cost_per_minute
    assert cb.cost_per_minute is not None
    assert cb.cost_per_minute.amount == Decimal("45.5")
    assert cb.cost_per_minute.currency is not None and cb.cost_per_minute.currency.id == "RUB"
    assert cb.calls[0].duration == 312 and cb.calls[0].successful is True
    assert cb.calls[0].actor is not None and cb.calls[0].actor.id == "Patient"
    assert [s.status.id for s in cb.statuses if s.status] == [
        RequestStatus.REGISTERED, RequestStatus.PROCESSING, RequestStatus.PROCESSED,
    ]
    assert all(s.created_at_utc and s.created_at_utc.tzinfo is UTC for s in cb.statuses)
    assert cb.timeline[0].type is not None and cb.timeline[0].type.id == "Accepted"
    assert cb.timeline[0].data == {"anything": [1, 2]}
    assert cb.medical_report is not None
    assert cb.medical_report.text.startswith("Рекомендовано")  # type: ignore[union-attr]
    assert cb.medical_report.attachments[0].size == 1024
    assert cb.feedbacks[0].rate == 5
    assert cb.transactions[0].amount is not None
    assert cb.transactions[0].amount.amount == Decimal("-773.5")
    assert cb.transactions[0].completed_at_utc is None
    assert cb.patient is not None and cb.patient.partner_patient_id == "P-100"
    assert cb.doctor_id == 101


def test_doctor_inside_callback() -> None:
    doctor = Callback.parse_payload(CALLBACK_PAYLOAD).doctor
    assert doctor is not None
    assert doctor.full_name == "Петрова Анна Сергеевна"
    assert doctor.birth_date == date(1980, 5, 17)
    assert doctor.region is not None and doctor.region.name == "Москва"
    assert doctor.specialties[0].id == 12
    ctype = doctor.callback_type
    assert ctype is not None and ctype.id == 2
    assert ctype.cost is not None and ctype.cost.amount == Decimal("45.5")
    assert ctype.is_available is True and ctype.is_disabled is False


def test_doctor_without_callback_type_and_partial_name() -> None:
    doctor = Doctor.parse_payload({"item": {"id": 7, "lastName": "Сидоров", "firstName": None,
                                            "consultationTypes": None}})
    assert doctor.id == 7
    assert doctor.full_name == "Сидоров"
    assert doctor.callback_type is None
    assert doctor.consultation_types == []


def test_both_spellings_of_cost_per_minute() -> None:
    money = {"amount": 10, "currency": {"id": "USD", "name": "$"}}
    right = Callback.parse_payload({"id": "a", "costPerMinute": money})
    wrong = Callback.parse_payload({"id": "a", "costPerMinuite": money})
    assert right.cost_per_minute == wrong.cost_per_minute
    assert right.cost_per_minute is not None and right.cost_per_minute.amount == 10
    # and it serialises under the correct spelling
    assert "costPerMinute" in right.model_dump(by_alias=True)


def test_item_wrapper_and_bare_object_are_the_same() -> None:
    bare = Callback.parse_payload(CALLBACK_PAYLOAD)
    wrapped = Callback.parse_payload({"item": CALLBACK_PAYLOAD})
    assert wrapped == bare


def test_minimal_callback_missing_fields_are_none_and_lists_empty() -> None:
    cb = Callback.parse_payload({"id": "x"})
    assert cb.status is None and cb.created_at_utc is None and cb.patient_phone is None
    assert cb.doctor is None and cb.cost_per_minute is None and cb.medical_report is None
    assert cb.calls == [] and cb.statuses == [] and cb.timeline == []
    assert cb.attachments == [] and cb.feedbacks == [] and cb.transactions == []
    assert cb.current_status is RequestStatus.UNKNOWN


def test_nulls_everywhere() -> None:
    cb = Callback.parse_payload(callback_payload(
        status=None, createdAtUtc=None, patientPhone=None, patientFullName=None, doctor=None,
        costPerMinuite=None, calls=None, statuses=None, timeline=None, medicalReport=None,
        attachments=None, feedbacks=None, transactions=None, patient=None,
    ))
    assert cb.calls == [] and cb.statuses == [] and cb.transactions == []
    assert cb.doctor is None and cb.medical_report is None and cb.patient_full_name is None


def test_unreadable_nested_values_degrade_to_none_instead_of_failing() -> None:
    cb = Callback.parse_payload(callback_payload(
        createdAtUtc="not a date", medicalReport="garbage", patientPhone={"code": "7"},
        doctor=[1, 2],
    ))
    assert cb.created_at_utc is None
    assert cb.medical_report is None
    assert cb.patient_phone is None
    assert cb.doctor is None
    assert cb.status is not None  # the rest is intact


def test_unknown_status_falls_back_and_history_still_parses() -> None:
    cb = Callback.parse_payload(callback_payload(
        status={"id": "WaitingForDoctor", "name": "Ожидает врача"},
        statuses=[{"id": "s1", "status": {"id": "WaitingForDoctor"}},
                  {"id": "s2", "status": "Delayed"}],
    ))
    assert cb.status is not None and cb.status.id is RequestStatus.UNKNOWN
    assert cb.status.name == "Ожидает врача"
    assert cb.statuses[0].status is not None
    assert cb.statuses[0].status.id is RequestStatus.UNKNOWN
    assert cb.statuses[1].status is not None and cb.statuses[1].status.id is RequestStatus.DELAYED


def test_current_status_from_history_when_status_missing() -> None:
    cb = Callback.parse_payload({"id": "x", "statuses": [
        {"status": {"id": "Processing"}, "createdAtUtc": "2024-01-01T10:05:00"},
        {"status": {"id": "Registered"}, "createdAtUtc": "2024-01-01T10:00:00"},
    ]})
    assert cb.current_status is RequestStatus.PROCESSING


def test_aware_timestamps_are_converted_to_utc() -> None:
    cb = Callback.parse_payload({"id": "x", "createdAtUtc": "2024-06-01T15:30:00+03:00"})
    assert cb.created_at_utc == datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    assert cb.created_at_utc is not None and cb.created_at_utc.utcoffset() == timedelta(0)
    zulu = Callback.parse_payload({"id": "x", "createdAtUtc": "2024-06-01T12:30:00Z"})
    assert zulu.created_at_utc == cb.created_at_utc


def test_request_status_numbers_and_finality() -> None:
    expected = [
        ("Registered", 1, False), ("PreProcessing", 2, False), ("Delayed", 3, False),
        ("Processing", 4, False), ("PostProcessing", 5, False), ("Processed", 6, True),
        ("Unsuccessful", 7, True),
    ]
    for value, number, final in expected:
        status = RequestStatus(value)
        assert status.number == number
        assert status.is_final is final
        assert RequestStatus.from_number(number) is status
    assert RequestStatus("SomethingNew") is RequestStatus.UNKNOWN
    assert RequestStatus.UNKNOWN.number == 0 and not RequestStatus.UNKNOWN.is_final
    assert RequestStatus("processing") is RequestStatus.PROCESSING  # case drift tolerated
    assert len([s for s in RequestStatus if s is not RequestStatus.UNKNOWN]) == 7


def test_callback_page() -> None:
    page = CallbackPage.parse_payload({
        "items": [callback_payload("a"), callback_payload("b")], "count": 2, "totalCount": 17,
        "extra": "ignored",
    })
    assert [c.id for c in page.items] == ["a", "b"]
    assert page.count == 2 and page.total_count == 17
    # count missing → number of items; total missing → None; bare list accepted
    assert CallbackPage.parse_payload({"items": [{"id": "a"}]}).count == 1
    bare = CallbackPage.parse_payload([{"id": "a"}, {"id": "b"}])
    assert bare.count == 2 and bare.total_count is None
    empty = CallbackPage.parse_payload({"items": None, "count": 0, "totalCount": 0})
    assert empty.items == []


def test_snake_case_names_populate_too() -> None:
    page = CallbackPage(items=[], count=0, total_count=5)
    assert page.total_count == 5
    cb = Callback(id="x", patient_full_name="A", cost_per_minute=Money(amount=Decimal(1)))
    assert cb.patient_full_name == "A"
    assert cb.model_dump(by_alias=True)["patientFullName"] == "A"


def test_phone_from_e164_and_back() -> None:
    phone = Phone.from_e164("+79099708593")
    assert (phone.code, phone.number) == ("7", "9099708593")
    assert phone.e164 == "+79099708593"
    # Italian numbers keep their leading zero in the national part
    assert Phone.from_e164("+390612345678").e164 == "+390612345678"
    with pytest.raises(ValueError):
        Phone.from_e164("89099708593")
    with pytest.raises(ValueError):
        Phone.from_e164("+7123")


def test_phone_accepts_numbers_and_hides_digits_in_repr() -> None:
    phone = Phone.model_validate({"code": 7, "number": "909-970-85-93"})
    assert phone.number == "9099708593"
    assert "9099708593" not in repr(phone)


def test_callback_repr_has_no_patient_data() -> None:
    text = repr(Callback.parse_payload(CALLBACK_PAYLOAD))
    assert "Иванов" not in text and "9099708593" not in text
    assert CALLBACK_PAYLOAD["id"] in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (4, RequestStatus.PROCESSING),
        ("4", RequestStatus.PROCESSING),
        (" 6 ", RequestStatus.PROCESSED),
        (1, RequestStatus.REGISTERED),
        (7, RequestStatus.UNSUCCESSFUL),
        (0, RequestStatus.UNKNOWN),
        (99, RequestStatus.UNKNOWN),
        ("-3", RequestStatus.UNKNOWN),
        (True, RequestStatus.UNKNOWN),  # a bool is not a status number
        (4.0, RequestStatus.UNKNOWN),
    ],
)
def test_numeric_status_ids_map_through_their_number(
    raw: object, expected: RequestStatus
) -> None:
    assert RequestStatus(raw) is expected
    cb = Callback.parse_payload({"id": "x", "status": {"id": raw, "name": "В работе"},
                                 "statuses": [{"status": {"id": raw}}]})
    assert cb.status is not None and cb.status.id is expected
    assert cb.statuses[0].status is not None and cb.statuses[0].status.id is expected


def test_bare_numeric_status_is_read_too() -> None:
    cb = Callback.parse_payload({"id": "x", "status": 4, "statuses": [{"status": 5}]})
    assert cb.current_status is RequestStatus.PROCESSING
    assert cb.statuses[0].status is not None
    assert cb.statuses[0].status.id is RequestStatus.POST_PROCESSING


def test_unreadable_page_items_are_dropped_and_counted_without_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One odd consultation must not fail the whole get-all page (a reconcile batch of 40).
    with caplog.at_level("WARNING", logger="api_client.models"):
        page = CallbackPage.parse_payload({
            "items": [{"id": "a"}, {"bad": 1}, "junk", None, callback_payload("b"),
                      {"id": {"nested": "Иванов"}}],
            "count": 6, "totalCount": 6,
        })
    assert [c.id for c in page.items] == ["a", "b"]
    assert page.dropped == 4 and page.received == 6
    assert page.count == 6 and page.total_count == 6
    (record,) = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert "4" in record.getMessage()
    assert "Иванов" not in caplog.text and "bad" not in caplog.text and "junk" not in caplog.text
    # count missing → the number of entries the service sent, readable or not
    assert CallbackPage.parse_payload([{"id": "a"}, {"bad": 1}]).count == 2
    clean = CallbackPage.parse_payload({"items": [{"id": "a"}]})
    assert clean.dropped == 0 and clean.received == 1
