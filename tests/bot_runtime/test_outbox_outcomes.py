"""What a Telegram error means for an outbox row: the pure table, no network."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage

from bot.outbox import Kind, Outcome, outcome_of

M = SendMessage(chat_id=5, text="x")


def bad(text: str) -> TelegramBadRequest:
    return TelegramBadRequest(M, f"Bad Request: {text}")


def test_retry_after_waits_the_given_seconds() -> None:
    out = outcome_of(TelegramRetryAfter(M, "Too Many Requests", 7), editing=False)
    assert out == Outcome(Kind.RETRY_AFTER, "retry_after", seconds=7)


def test_migrated_group_follows_the_new_id() -> None:
    out = outcome_of(TelegramMigrateToChat(M, "migrated", -1009), editing=False)
    assert (out.kind, out.new_chat_id) == (Kind.MIGRATED, -1009)


@pytest.mark.parametrize("editing", [False, True])
def test_not_modified_counts_as_sent(editing: bool) -> None:
    assert outcome_of(bad("message is not modified: same text"), editing=editing).kind is Kind.SENT


@pytest.mark.parametrize("text", ["message to edit not found", "message can't be edited"])
def test_a_gone_card_is_sent_anew_only_when_editing(text: str) -> None:
    assert outcome_of(bad(text), editing=True).kind is Kind.RESEND
    # Not an edit: the same words are just a bad request, this row only.
    assert outcome_of(bad(text), editing=False).kind is Kind.DEAD


def test_chat_not_found_and_404_kill_the_chat() -> None:
    assert outcome_of(bad("chat not found"), editing=True) == Outcome(
        Kind.CHAT_DEAD, "chat not found"
    )
    assert outcome_of(TelegramNotFound(M, "Not Found"), editing=False) == Outcome(
        Kind.CHAT_DEAD, "not found"
    )


def test_other_bad_request_kills_the_row_with_the_message() -> None:
    out = outcome_of(bad("can't parse entities"), editing=False)
    assert out == Outcome(Kind.DEAD, "bad request: Bad Request: can't parse entities")


def test_forbidden_kills_the_chat_and_deactivates() -> None:
    blocked = TelegramForbiddenError(M, "Forbidden: bot was blocked by the user")
    out = outcome_of(blocked, editing=False)
    assert out == Outcome(Kind.FORBIDDEN, "forbidden: Forbidden: bot was blocked by the user")


def test_unauthorized_keeps_the_row_and_pauses() -> None:
    out = outcome_of(TelegramUnauthorizedError(M, "Unauthorized"), editing=False)
    assert out == Outcome(Kind.UNAUTHORIZED, "unauthorized", seconds=60)


@pytest.mark.parametrize(
    "exc",
    [
        TelegramNetworkError(M, "timeout"),
        TelegramEntityTooLarge(M, "too large"),
        TelegramServerError(M, "Bad Gateway"),
        TelegramConflictError(M, "Conflict"),
        TelegramAPIError(M, "something new"),
    ],
)
def test_transient_and_unknown_errors_are_retried_with_their_type(exc: TelegramAPIError) -> None:
    assert outcome_of(exc, editing=False) == Outcome(Kind.RETRY, type(exc).__name__)
