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
    assert err.user_message("en") == "The consultation service failed; try again later."


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_outage_statuses_are_unavailable_even_with_odd_bodies(status: int) -> None:
    for content in (b"Service Unavailable", b"", body("internal_server_error")):
        err = error_from_response(status, content, retry_after=30.0)
        assert isinstance(err, ApiUnavailable)
        assert err.status == status and err.retry_after == 30.0
        assert err.user_message("ru") == (
            "Сервис консультаций сейчас недоступен, попробуйте через минуту."
        )


def test_empty_and_non_object_bodies() -> None:
    assert type(error_from_response(404, b"")) is NotFound
    err = error_from_response(400, b"[1, 2]")
    assert type(err) is BadArgument and err.body == [1, 2]


def test_not_found_messages_depend_on_value() -> None:
    doctor = error_from_response(404, body("not_found", "doctor"))
    assert doctor.user_message("ru") == "Врач с таким номером не найден."
    assert doctor.user_message("en") == "No doctor with this id."
    callback = error_from_response(404, body("not_found", "callback"))
    assert callback.user_message("en") == "No such consultation."
    other = error_from_response(404, body("not_found", "planet"))
    assert other.user_message("en") == "The requested record was not found."


def test_insufficient_funds_message() -> None:
    err = error_from_response(402, body("insufficient_funds"))
    assert err.user_message("ru").startswith("На счёте партнёра недостаточно средств")
    assert err.user_message("en").startswith("The partner account does not have enough funds")


def test_bad_argument_names_the_parameter_in_plain_words() -> None:
    phone = error_from_response(400, body("bad_argument", "patientPhone.number"))
    assert phone.user_message("ru") == "Сервис консультаций отклонил параметр «телефон пациента»."
    assert phone.user_message("en") == "The consultation service rejected the patient's phone."
    odd = error_from_response(400, body("bad_argument", '{"weird": "json value"}'))
    assert "{" not in odd.user_message("ru")
    assert odd.user_message("en") == (
        "The consultation service rejected one of the request's parameters."
    )


ALL_ERRORS: list[PartnerApiError] = [
    BadArgument(400, "bad_argument", "duration", "x"),
    BadArgument(400),
    LimitExceeded(400, "limit_exceeded"),
    InsufficientFunds(402, "insufficient_funds"),
    AuthError(403, "oauth"),
    Forbidden(403, "forbidden"),
    NotFound(404, "not_found", "doctor"),
    NotFound(404),
    Conflict(409, "conflict"),
    ServerError(500),
    RouteUnavailable(404),
    ApiError(418),
    ApiUnavailable("timeout"),
    OutcomeUnknown("read timeout"),
    AttachmentTooLarge(11 * 1024 * 1024, 10 * 1024 * 1024),
]


@pytest.mark.parametrize("err", ALL_ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_error_renders_one_plain_sentence(err: PartnerApiError, lang: str) -> None:
    text = err.user_message(lang)
    assert text and text[-1] in ".!"
    assert "\n" not in text
    for forbidden in ("{", "}", "Traceback", "HTTP", "oauth", "_"):
        assert forbidden not in text
    has_cyrillic = any("а" <= ch.lower() <= "я" for ch in text)
    assert has_cyrillic is (lang == "ru")


def test_unknown_language_falls_back_to_english() -> None:
    assert ApiUnavailable("x").user_message("de") == ApiUnavailable("x").user_message("en")
    assert NotFound(404, "not_found", "doctor").user_message("ru-RU") == (
        "Врач с таким номером не найден."
    )


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
