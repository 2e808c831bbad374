"""``on_request(route, outcome, seconds)``: every attempt reported with a route name and an
outcome word (the bot turns them into Prometheus series); a failing callback fails nothing."""

from __future__ import annotations

import httpx

from api_client.transport import request_outcome
from tests.api_client.conftest import ClientFactory, MockApi, json_response

PAGE = {"data": [], "total": 0}


async def test_every_attempt_is_reported_with_route_and_outcome(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    answers = iter([httpx.Response(503), json_response(200, PAGE)])
    mock_api.handler = lambda request: next(answers)
    seen: list[tuple[str, str, float]] = []
    async with make_client(on_request=lambda *args: seen.append(args)) as api:
        await api.list_callbacks(limit=1)
    assert [(route, outcome) for route, outcome, _ in seen] == [
        ("get-all", "server_error"), ("get-all", "ok"),
    ]
    assert all(seconds >= 0 for _, _, seconds in seen)


async def test_a_failing_callback_does_not_fail_the_request(
    make_client: ClientFactory, mock_api: MockApi
) -> None:
    mock_api.handler = lambda request: json_response(200, PAGE)

    def broken(route: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("metrics bug")

    async with make_client(on_request=broken) as api:
        await api.list_callbacks(limit=1)


def test_outcome_words() -> None:
    assert request_outcome(200) == "ok"
    assert request_outcome(429) == "rate_limited"
    assert request_outcome(404) == "client_error"
    assert request_outcome(502) == "server_error"
    assert request_outcome(None, httpx.ReadTimeout("t")) == "timeout"
    assert request_outcome(None, httpx.ConnectError("c")) == "network_error"
