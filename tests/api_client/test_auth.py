from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from api_client import (
    ApiUnavailable,
    AuthError,
    BadArgument,
    OAuthTokenProvider,
    Phone,
    StaticTokenProvider,
    TokenPair,
    exchange_refresh_token,
    exchange_sms_code,
    request_validation_code,
)
from tests.api_client.conftest import MockApi, json_response

TOKEN_URL = "https://auth.example.test/token"
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def token_answer(n: int) -> httpx.Response:
    return json_response(200, {"access_token": f"access-{n}", "token_type": "bearer",
                               "expires_in": 1209599, "refresh_token": f"refresh-{n}"})


@pytest.fixture
def token_endpoint() -> MockApi:
    api = MockApi()
    api.handler = lambda request: token_answer(len(api.requests))
    return api


@pytest.fixture
async def token_http(token_endpoint: MockApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint)) as http:
        yield http


def provider(http: httpx.AsyncClient, **kwargs: object) -> OAuthTokenProvider:
    pair = TokenPair("access-0", "refresh-0", NOW + timedelta(days=14))
    return OAuthTokenProvider(TOKEN_URL, "client-1", pair, http=http,
                              now=lambda: NOW, **kwargs)  # type: ignore[arg-type]


async def test_refresh_posts_the_refresh_grant_and_hands_the_pair_over(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    stored: list[TokenPair] = []

    async def on_refresh(pair: TokenPair) -> None:
        stored.append(pair)

    tokens = provider(token_http, on_refresh=on_refresh)
    assert await tokens.get_token() == "access-0"
    assert await tokens.refresh("access-0") == "access-1"
    assert await tokens.get_token() == "access-1"

    (request,) = token_endpoint.requests
    assert str(request.url) == TOKEN_URL and request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(request) == {"grant_type": "refresh_token", "refresh_token": "refresh-0",
                             "client_id": "client-1"}
    assert len(stored) == 1
    assert stored[0].access_token == "access-1" and stored[0].refresh_token == "refresh-1"
    assert stored[0].expires_at is not None
    assert stored[0].expires_at - datetime.now(UTC) > timedelta(days=13)


async def test_refresh_with_a_stale_token_that_was_already_replaced(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    tokens = provider(token_http)
    assert await tokens.refresh("access-0") == "access-1"
    # a request that failed with the old token arrives late: no second exchange
    assert await tokens.refresh("access-0") == "access-1"
    assert len(token_endpoint.requests) == 1


async def test_concurrent_refreshes_share_one_exchange(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow_answer(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.wait_for(release.wait(), 5)
        return token_answer(1)

    token_endpoint.handler = slow_answer
    tokens = provider(token_http)
    waiters = [asyncio.create_task(tokens.refresh("access-0")) for _ in range(10)]
    # the exchange is under way (all ten callers were scheduled before it) and held open
    await asyncio.wait_for(arrived.wait(), 5)
    release.set()
    assert await asyncio.gather(*waiters) == ["access-1"] * 10
    assert len(token_endpoint.requests) == 1


async def test_a_failed_refresh_fails_every_waiter_and_can_be_tried_again(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    token_endpoint.handler = lambda r: json_response(
        400, {"error": "invalid_grant", "error_description": "refresh token expired"})
    tokens = provider(token_http)
    results = await asyncio.gather(tokens.refresh("access-0"), tokens.refresh("access-0"),
                                   return_exceptions=True)
    assert all(isinstance(r, AuthError) for r in results)
    assert len(token_endpoint.requests) == 1
    assert isinstance(results[0], AuthError) and results[0].value == "invalid_grant"

    token_endpoint.handler = lambda r: token_answer(2)
    assert await tokens.refresh("access-0") == "access-2"


async def test_token_endpoint_down_is_unavailable(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    token_endpoint.handler = lambda r: httpx.Response(503, text="down")
    with pytest.raises(ApiUnavailable):
        await provider(token_http).refresh("access-0")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    token_endpoint.handler = refuse
    with pytest.raises(ApiUnavailable):
        await provider(token_http).refresh("access-0")


async def test_injected_refresher_replaces_the_endpoint(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    seen: list[str] = []
    stored: list[str] = []

    async def db_locked_refresh(current: TokenPair) -> TokenPair:
        seen.append(current.access_token)
        return TokenPair("from-db", None, None)

    async def on_refresh(pair: TokenPair) -> None:
        stored.append(pair.access_token)

    tokens = provider(token_http, refresher=db_locked_refresh, on_refresh=on_refresh)
    assert await tokens.refresh("access-0") == "from-db"
    assert seen == ["access-0"]
    assert stored == ["from-db"]
    assert token_endpoint.requests == []
    assert tokens.pair.refresh_token == "refresh-0"  # kept when the new pair has none


async def test_on_refresh_failure_does_not_lose_the_new_token(
    token_http: httpx.AsyncClient,
) -> None:
    async def broken_store(pair: TokenPair) -> None:
        raise RuntimeError("database is down")

    tokens = provider(token_http, on_refresh=broken_store)
    assert await tokens.refresh("access-0") == "access-1"
    assert await tokens.get_token() == "access-1"


async def test_get_token_refreshes_ahead_of_expiry(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    pair = TokenPair("access-0", "refresh-0", NOW + timedelta(minutes=2))
    tokens = OAuthTokenProvider(TOKEN_URL, "client-1", pair, http=token_http, now=lambda: NOW)
    assert await tokens.get_token() == "access-1"
    assert len(token_endpoint.requests) == 1
    # and when that proactive refresh fails, the old token is still handed out
    token_endpoint.handler = lambda r: httpx.Response(503)
    tokens = OAuthTokenProvider(TOKEN_URL, "client-1", pair, http=token_http, now=lambda: NOW)
    assert await tokens.get_token() == "access-0"


async def test_static_provider_cannot_refresh() -> None:
    tokens = StaticTokenProvider("fixed")
    assert await tokens.get_token() == "fixed"
    with pytest.raises(AuthError):
        await tokens.refresh("fixed")
    assert await tokens.refresh("older") == "fixed"


async def test_exchange_sms_code_form(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    pair = await exchange_sms_code(token_http, TOKEN_URL, "client-1", "+79099708593", "123456")
    assert pair.access_token == "access-1" and pair.refresh_token == "refresh-1"
    assert form(token_endpoint.requests[0]) == {
        "grant_type": "password", "username": "+79099708593", "password": "123456",
        "client_id": "client-1",
    }


async def test_exchange_refresh_token_rejects_an_answer_without_token(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    token_endpoint.handler = lambda r: json_response(200, {"token_type": "bearer"})
    with pytest.raises(AuthError):
        await exchange_refresh_token(token_http, TOKEN_URL, "client-1", "refresh-0")


async def test_request_validation_code(
    token_http: httpx.AsyncClient, token_endpoint: MockApi
) -> None:
    token_endpoint.handler = lambda r: json_response(200, {"success": True})
    await request_validation_code(token_http, "https://api.example.test/",
                                  Phone(code="7", number="9099708593"))
    (request,) = token_endpoint.requests
    assert str(request.url) == "https://api.example.test/api/v1/access/validation-code"
    assert json.loads(request.content) == {"phone": {"code": "7", "number": "9099708593"}}

    token_endpoint.handler = lambda r: json_response(
        400, {"type": "bad_argument", "value": "phone", "description": "bad"})
    with pytest.raises(BadArgument):
        await request_validation_code(token_http, "https://api.example.test",
                                      Phone(code="7", number="1"))


def test_token_pair_repr_hides_tokens() -> None:
    pair = TokenPair("secret-access", "secret-refresh", NOW)
    assert "secret" not in repr(pair)
