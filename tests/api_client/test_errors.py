from __future__ import annotations

import json

import pytest

from api_client import (
    ApiError,
    ApiUnavailable,
    AttachmentTooLarge,
    AuthError,
    BadArgument,
    Conflict,
    Forbidden,
    InsufficientFunds,
    LimitExceeded,
    NotFound,
    OutcomeUnknown,
    PartnerApiError,
    RouteUnavailable,
    ServerError,
)
from api_client.errors import error_from_response


def body(type_: str, value: str | None = None, description: str = "details") -> bytes:
    return json.dumps({"type": type_, "value": value, "description": description}).encode()


@pytest.mark.parametrize(
    ("status", "type_", "cls"),
    [
        (400, "bad_argument", BadArgument),
        (400, "limit_exceeded", LimitExceeded),
        (402, "insufficient_funds", InsufficientFunds),
        (403, "oauth", AuthError),
        (403, "forbidden", Forbidden),
        (404, "not_found", NotFound),
        (409, "conflict", Conflict),
        (500, "internal_server_error", ServerError),
    ],
)
def test_every_documented_error_type(status: int, type_: str, cls: type[ApiError]) -> None:
    err = error_from_response(status, body(type_, "doctorId", "Описание ошибки"))
    assert type(err) is cls
    assert isinstance(err, ApiError)
    assert err.status == status
    assert err.type == type_
    assert err.value == "doctorId"
    assert err.description == "Описание ошибки"
    assert err.body == {"type": type_, "value": "doctorId", "description": "Описание ошибки"}


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadArgument), (401, AuthError), (402, InsufficientFunds), (403, Forbidden),
     (404, NotFound), (409, Conflict), (500, ServerError), (507, ServerError), (418, ApiError)],
)
def test_status_decides_when_the_body_is_not_json(status: int, cls: type[ApiError]) -> None:
    err = error_from_response(status, b"<html><body>Oops</body></html>")
    assert type(err) is cls
    assert isinstance(err, ApiError)
    assert err.status == status and err.type is None
    assert err.body == "<html><body>Oops</body></html>"


def test_non_json_500_is_a_server_error() -> None:
    err = error_from_response(500, b"<h1>Internal Server Error</h1>")
    assert isinstance(err, ServerError)
    assert err.code == "server_error"


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_outage_statuses_are_unavailable_even_with_odd_bodies(status: int) -> None:
    for content in (b"Service Unavailable", b"", body("internal_server_error")):
        err = error_from_response(status, content, retry_after=30.0)
        assert isinstance(err, ApiUnavailable)
        assert err.status == status and err.retry_after == 30.0
        assert err.code == "unavailable"


def test_empty_and_non_object_bodies() -> None:
    assert type(error_from_response(404, b"")) is NotFound
    err = error_from_response(400, b"[1, 2]")
    assert type(err) is BadArgument and err.body == [1, 2]


def test_not_found_keeps_the_kind_in_value() -> None:
    doctor = error_from_response(404, body("not_found", "doctor"))
    assert doctor.code == "not_found" and doctor.value == "doctor"
    other = error_from_response(404, body("not_found"))
    assert other.code == "not_found" and other.value is None


def test_bad_argument_keeps_the_parameter_in_value() -> None:
    phone = error_from_response(400, body("bad_argument", "patientPhone.number"))
    assert phone.code == "bad_argument" and phone.value == "patientPhone.number"
    odd = error_from_response(400, body("bad_argument", {"weird": "json value"}))  # type: ignore[arg-type]
    assert odd.code == "bad_argument" and odd.value is None


# Every error class with the code the bot words it by (bot/rendering/partner_errors.py).
CODES: list[tuple[PartnerApiError, str]] = [
    (PartnerApiError(), "error"),
    (ApiError(418), "refused"),
    (BadArgument(400, "bad_argument", "duration", "x"), "bad_argument"),
    (LimitExceeded(400, "limit_exceeded"), "limit_exceeded"),
    (InsufficientFunds(402, "insufficient_funds"), "insufficient_funds"),
    (AuthError(403, "oauth"), "auth"),
    (Forbidden(403, "forbidden"), "forbidden"),
    (NotFound(404, "not_found", "doctor"), "not_found"),
    (Conflict(409, "conflict"), "conflict"),
    (ServerError(500), "server_error"),
    (RouteUnavailable(404), "route_unavailable"),
    (ApiUnavailable("timeout"), "unavailable"),
    (OutcomeUnknown("read timeout"), "outcome_unknown"),
    (AttachmentTooLarge(11 * 1024 * 1024, 10 * 1024 * 1024), "attachment_too_large"),
]


@pytest.mark.parametrize(("err", "code"), CODES, ids=lambda e: getattr(e, "code", ""))
def test_every_error_has_its_stable_code(err: PartnerApiError, code: str) -> None:
    assert err.code == code


def test_codes_are_distinct_and_no_sentences_are_left() -> None:
    codes = [code for _, code in CODES]
    assert len(set(codes)) == len(codes)
    for err, _ in CODES:
        assert not hasattr(err, "user_message")


def test_errors_keep_their_fields() -> None:
    unavailable = ApiUnavailable("timeout", status=503, retry_after=2.5, attempts=3)
    assert (unavailable.status, unavailable.retry_after, unavailable.attempts) == (503, 2.5, 3)
    big = AttachmentTooLarge(11, 10)
    assert (big.size, big.limit) == (11, 10)
    assert OutcomeUnknown("read timeout").reason == "read timeout"


def test_outcome_unknown_is_not_an_unavailability() -> None:
    # generic "retry when unavailable" code must never repeat a start whose answer was lost
    assert not issubclass(OutcomeUnknown, ApiUnavailable)
    assert not issubclass(OutcomeUnknown, ApiError)
    assert not issubclass(RouteUnavailable, NotFound)
    assert issubclass(AttachmentTooLarge, ValueError)


def test_str_of_an_error_keeps_description_out() -> None:
    # descriptions may echo what was sent (a patient's phone): keep them out of logs
    err = error_from_response(400, body("bad_argument", "patientPhone", "+79099708593 invalid"))
    assert isinstance(err, BadArgument)
    assert "79099708593" not in str(err) and "79099708593" not in repr(err)
    assert str(err) == "HTTP 400 bad_argument value=patientPhone"
    assert err.description == "+79099708593 invalid"  # still there for whoever needs it
