"""Fixtures for the api_client unit tests: an in-memory partner API (httpx.MockTransport),
a retry policy whose sleep records delays instead of waiting, and realistic payloads."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from api_client import PartnerApiClient, RetryPolicy, StaticTokenProvider, TokenProvider

BASE_URL = "https://partner.example.test"

Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


class MockApi:
    """Records every request and answers through ``handler`` (sync or async)."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = handler or (lambda request: httpx.Response(404))

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        result = self.handler(request)
        if isinstance(result, httpx.Response):
            return result
        return await result

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", **headers,
    })


def error_body(type_: str, value: str | None = None, description: str = "") -> dict[str, Any]:
    return {"type": type_, "value": value, "description": description}


# A consultation as the real service sends it (partner-api.md), quirks included:
# naive UTC stamps with seven fractional digits, `costPerMinuite`, an extra field.
CALLBACK_PAYLOAD: dict[str, Any] = {
    "id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e6f4a1b2c",
    "status": {"id": "Processed", "name": "Завершено"},
    "createdAtUtc": "2017-03-22T14:39:07.1234567",
    "patientPhone": {"code": "7", "number": "9099708593"},
    "patientFullName": "Иванов Иван Иванович",
    "doctorFullName": "Петрова Анна Сергеевна",
    "doctor": {
        "id": 101,
        "lastName": "Петрова",
        "firstName": "Анна",
        "middleName": "Сергеевна",
        "avatarUrl": None,
        "birthDate": "1980-05-17T00:00:00",
        "region": {"id": 77, "name": "Москва"},
        "degree": {"id": 1, "name": "Кандидат медицинских наук"},
        "position": {"id": 3, "name": "Терапевт"},
        "specialties": [{"id": 12, "name": "Терапия"}],
        "consultationTypes": [
            {"id": 1, "type": {"id": "Writing", "name": "Письмо"},
             "cost": {"amount": 300, "currency": {"id": "RUB", "name": "руб."}},
             "isAvailable": True, "isDisabled": False},
            {"id": 2, "type": {"id": "Callback", "name": "Обратный звонок"},
             "cost": {"amount": 45.5, "currency": {"id": "RUB", "name": "руб."}},
             "isAvailable": True, "isDisabled": False},
        ],
    },
    "costPerMinuite": {"amount": 45.5, "currency": {"id": "RUB", "name": "руб."}},
    "calls": [
        {"id": "c1", "actor": {"id": "Patient", "name": "Пациент"}, "duration": 312,
         "startedAtUtc": "2017-03-22T14:45:00", "successful": True},
    ],
    "statuses": [
        {"id": "s1", "status": {"id": "Registered", "name": "Зарегистрирована"},
         "actor": {"id": "System", "name": "Система"}, "createdAtUtc": "2017-03-22T14:39:07"},
        {"id": "s2", "status": {"id": "Processing", "name": "В работе"},
         "actor": {"id": "Doctor", "name": "Врач"}, "createdAtUtc": "2017-03-22T14:44:58"},
        {"id": "s3", "status": {"id": "Processed", "name": "Завершено"},
         "actor": {"id": "Doctor", "name": "Врач"}, "createdAtUtc": "2017-03-22T15:02:11"},
    ],
    "timeline": [
        {"id": "t1", "type": {"id": "Accepted", "name": "Принята"},
         "createdAtUtc": "2017-03-22T14:40:00", "data": {"anything": [1, 2]}},
    ],
    "medicalReport": {
        "text": "Рекомендовано: покой, обильное питьё.",
        "createdAtUtc": "2017-03-22T15:02:11",
        "attachments": [{"id": "m1", "url": "https://files.example/m1.pdf", "name": "m1.pdf",
                         "mime": "application/pdf", "size": 1024}],
    },
    "attachments": [],
    "feedbacks": [{"rate": 5, "comment": "Спасибо", "createdAtUtc": "2017-03-22T16:00:00",
                   "actor": {"id": "Patient", "name": "Пациент"}}],
    "transactions": [{"amount": {"amount": -773.5, "currency": {"id": "RUB", "name": "руб."}},
                      "createdAtUtc": "2017-03-22T15:02:12", "completedAtUtc": None,
                      "operation": {"id": "Charge", "name": "Списание"}}],
    "patient": {"partnerPatientId": "P-100"},
    "somethingNewFromTheService": {"nested": True},
}


def callback_payload(callback_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    payload = copy.deepcopy(CALLBACK_PAYLOAD)
    if callback_id is not None:
        payload["id"] = callback_id
    payload.update(overrides)
    return payload


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def retry_policy(recording_sleep: RecordingSleep) -> RetryPolicy:
    return RetryPolicy(sleep=recording_sleep, rng=random.Random(7))


@pytest.fixture
def mock_api() -> MockApi:
    return MockApi()


ClientFactory = Callable[..., PartnerApiClient]


@pytest.fixture
async def make_client(
    mock_api: MockApi, retry_policy: RetryPolicy
) -> AsyncIterator[ClientFactory]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(mock_api))

    def factory(tokens: TokenProvider | None = None, **kwargs: Any) -> PartnerApiClient:
        kwargs.setdefault("retry", retry_policy)
        return PartnerApiClient(
            BASE_URL, tokens or StaticTokenProvider("tok-static"), http=http, **kwargs
        )

    yield factory
    await http.aclose()
