"""Partner API errors in plain words: every error code has a ru and an en sentence."""

from __future__ import annotations

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
from bot.i18n import I18n, Translator
from bot.rendering.partner_errors import CODE_KEYS, FIELD_KEYS, NOT_FOUND_KEYS, partner_error_text

I18N = I18n(strict=True)
RU = I18N.translator("ru")
EN = I18N.translator("en")

ALL_ERRORS: list[PartnerApiError] = [
    PartnerApiError(),
    BadArgument(400, "bad_argument", "duration", "x"),
    BadArgument(400, "bad_argument", "someParam"),
    BadArgument(400, "bad_argument", '{"weird": "json value"}'),
    BadArgument(400),
    LimitExceeded(400, "limit_exceeded"),
    InsufficientFunds(402, "insufficient_funds"),
    AuthError(403, "oauth"),
    Forbidden(403, "forbidden"),
    NotFound(404, "not_found", "doctor"),
    NotFound(404, "not_found", "callback"),
    NotFound(404),
    Conflict(409, "conflict"),
    ServerError(500),
    RouteUnavailable(404),
    ApiError(418),
    ApiUnavailable("timeout"),
    OutcomeUnknown("read timeout"),
    AttachmentTooLarge(11 * 1024 * 1024, 10 * 1024 * 1024),
]

# Every class api_client raises, found by walking the hierarchy: a new one without a
# sentence fails here.
def _classes(cls: type[PartnerApiError]) -> list[type[PartnerApiError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _classes(sub))]


def test_every_error_class_has_a_worded_code() -> None:
    for cls in _classes(PartnerApiError):
        assert cls.code in CODE_KEYS, cls.__name__


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_key_has_a_sentence_in_both_languages(lang: str) -> None:
    keys = {*CODE_KEYS.values(), *NOT_FOUND_KEYS.values(), *FIELD_KEYS.values()}
    keys |= {"partner-error-bad-argument-field", "partner-field-other"}
    missing = sorted(k for k in keys if not I18N.has(lang, k))
    assert missing == []


@pytest.mark.parametrize("err", ALL_ERRORS, ids=lambda e: f"{type(e).__name__}-{e!s:.20}")
@pytest.mark.parametrize("t", [RU, EN], ids=lambda t: t.lang)
def test_every_error_renders_one_plain_sentence(err: PartnerApiError, t: Translator) -> None:
    text = partner_error_text(t, err)
    assert text and text[-1] in ".!"
    assert "\n" not in text
    for forbidden in ("{", "}", "Traceback", "HTTP", "oauth", "_", "partner-"):
        assert forbidden not in text
    has_cyrillic = any("а" <= ch.lower() <= "я" for ch in text)
    assert has_cyrillic is (t.lang == "ru")


def test_the_sentences_of_before() -> None:
    server = error_from_response(500, b"<h1>Internal Server Error</h1>")
    assert partner_error_text(EN, server) == "The consultation service failed; try again later."
    outage = error_from_response(503, b"", retry_after=30.0)
    assert partner_error_text(RU, outage) == (
        "Сервис консультаций сейчас недоступен, попробуйте через минуту."
    )
    funds = error_from_response(402, b'{"type": "insufficient_funds"}')
    assert partner_error_text(RU, funds).startswith("На счёте партнёра недостаточно средств")
    assert partner_error_text(EN, funds).startswith(
        "The partner account does not have enough funds"
    )


def test_not_found_sentences_depend_on_value() -> None:
    doctor = NotFound(404, "not_found", "doctor")
    assert partner_error_text(RU, doctor) == "Врач с таким номером не найден."
    assert partner_error_text(EN, doctor) == "No doctor with this id."
    assert partner_error_text(EN, NotFound(404, "not_found", "callback")) == (
        "No such consultation."
    )
    assert partner_error_text(EN, NotFound(404, "not_found", "planet")) == (
        "The requested record was not found."
    )


def test_bad_argument_names_the_parameter_in_plain_words() -> None:
    phone = BadArgument(400, "bad_argument", "patientPhone.number")
    assert partner_error_text(RU, phone) == (
        "Сервис консультаций отклонил параметр «телефон пациента»."
    )
    assert partner_error_text(EN, phone) == "The consultation service rejected the patient's phone."
    ids = BadArgument(400, "bad_argument", "ids[0]")
    assert partner_error_text(EN, ids) == "The consultation service rejected the consultation ids."
    odd = BadArgument(400, "bad_argument", '{"weird": "json value"}')
    assert "{" not in partner_error_text(RU, odd)
    assert partner_error_text(EN, odd) == (
        "The consultation service rejected one of the request's parameters."
    )
    named = BadArgument(400, "bad_argument", "someParam")
    assert partner_error_text(RU, named) == "Сервис консультаций отклонил параметр «someParam»."
    assert partner_error_text(EN, named) == (
        "The consultation service rejected the parameter “someParam”."
    )


def test_description_never_shows() -> None:
    # descriptions may echo what was sent (a patient's phone)
    err = BadArgument(400, "bad_argument", "patientPhone", "+79099708593 invalid")
    for t in (RU, EN):
        assert "79099708593" not in partner_error_text(t, err)


def test_unknown_language_gets_english() -> None:
    t = I18N.translator("de")
    assert partner_error_text(t, ApiUnavailable("x")) == partner_error_text(EN, ApiUnavailable("x"))
