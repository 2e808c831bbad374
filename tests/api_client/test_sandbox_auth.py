"""Bearer checking, the validation-code (SMS) step and the token endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api_client.sandbox import SandboxConfig, SandboxServer

CB = "/api/v1/callbackrequest"


@pytest.fixture
async def lenient() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig()) as srv:
        yield srv


@pytest.fixture
async def strict() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(SandboxConfig(required_token="the-token")) as srv:
        yield srv


def assert_oauth(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.json()["type"] == "oauth"


async def test_any_bearer_is_accepted_by_default_but_one_is_required(
    lenient: SandboxServer,
) -> None:
    async with httpx.AsyncClient(base_url=lenient.url) as http:
        assert_oauth(await http.get(f"{CB}/get-all"))
        assert_oauth(await http.get(f"{CB}/get-all", headers={"Authorization": "Basic abc"}))
        ok = await http.get(f"{CB}/get-all", headers={"Authorization": "Bearer whatever"})
        assert ok.status_code == 200


async def test_required_token_only(strict: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=strict.url) as http:
        assert_oauth(await http.get(f"{CB}/get-all", headers={"Authorization": "Bearer other"}))
        assert_oauth(
            await http.post(f"{CB}/terminate-callback", json={"requestId": "x"},
                            headers={"Authorization": "Bearer other"})
        )
        ok = await http.get(f"{CB}/get-all", headers={"Authorization": "Bearer the-token"})
        assert ok.status_code == 200


async def test_sms_login_issues_a_pair_that_becomes_valid(strict: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=strict.url) as http:
        sent = await http.post(
            "/api/v1/access/validation-code",
            json={"phone": {"code": "7", "number": "9161234567"}},
        )
        assert sent.status_code == 200
        assert strict.sandbox.last_sms_code == "123456"
        assert (await http.get("/_sandbox/sms-code")).json() == {"code": "123456"}

        wrong = await http.post("/token", data={"grant_type": "password",
                                                "username": "+79161234567", "password": "000000"})
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"

        answer = await http.post("/token", data={"grant_type": "password",
                                                 "username": "+79161234567",
                                                 "password": "123456", "client_id": "bot"})
        assert answer.status_code == 200
        pair = answer.json()
        assert pair["token_type"] == "bearer"
        assert pair["expires_in"] == 1209599
        assert pair["access_token"] and pair["refresh_token"]

        bearer = {"Authorization": f"Bearer {pair['access_token']}"}
        assert (await http.get(f"{CB}/get-all", headers=bearer)).status_code == 200

        # The code is single-use.
        reuse = await http.post("/token", data={"grant_type": "password",
                                                "username": "+79161234567", "password": "123456"})
        assert reuse.status_code == 400


async def test_refresh_rotates_and_expire_token_forces_a_403(strict: SandboxServer) -> None:
    pair = strict.sandbox.issue_tokens()
    async with httpx.AsyncClient(base_url=strict.url) as http:
        old = {"Authorization": f"Bearer {pair['access_token']}"}
        assert (await http.get(f"{CB}/get-all", headers=old)).status_code == 200
        strict.sandbox.expire_token(pair["access_token"])
        assert_oauth(await http.get(f"{CB}/get-all", headers=old))

        refreshed = await http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 200
        new = refreshed.json()
        assert new["access_token"] != pair["access_token"]
        bearer = {"Authorization": f"Bearer {new['access_token']}"}
        assert (await http.get(f"{CB}/get-all", headers=bearer)).status_code == 200

        # A spent refresh token is refused: two refreshes with one token would show here.
        again = await http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
        )
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
        unknown = await http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": "made-up"}
        )
        assert unknown.status_code == 400
        odd = await http.post("/token", data={"grant_type": "client_credentials"})
        assert odd.json()["error"] == "unsupported_grant_type"
    assert [r.route for r in strict.sandbox.requests].count("token") == 4


async def test_lenient_mode_refreshes_unknown_refresh_tokens_and_honours_expiry(
    lenient: SandboxServer,
) -> None:
    async with httpx.AsyncClient(base_url=lenient.url) as http:
        answer = await http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": "from-env"}
        )
        assert answer.status_code == 200
        lenient.sandbox.expire_token("stale")
        assert_oauth(await http.get(f"{CB}/get-all", headers={"Authorization": "Bearer stale"}))
        expired = await http.post("/_sandbox/tokens/expire", json={"token": "stale2"})
        assert expired.status_code == 200
        assert_oauth(await http.get(f"{CB}/get-all", headers={"Authorization": "Bearer stale2"}))


@pytest.mark.parametrize(
    "body",
    [{"phone": "+7 916 123-45-67"}, {"code": "7", "number": "9161234567"}],
)
async def test_validation_code_accepts_phone_forms(
    lenient: SandboxServer, body: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=lenient.url) as http:
        assert (await http.post("/api/v1/access/validation-code", json=body)).status_code == 200
        answer = await http.post("/token", data={"grant_type": "password",
                                                 "username": "+79161234567", "password": "123456"})
        assert answer.status_code == 200


async def test_validation_code_without_a_phone_is_a_bad_argument(lenient: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=lenient.url) as http:
        response = await http.post("/api/v1/access/validation-code", json={})
        assert response.status_code == 400
        assert response.json()["value"] == "phone"
