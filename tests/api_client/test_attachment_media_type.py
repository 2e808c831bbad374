"""An attachment's MIME type goes into a multipart header only when it is a plain
``type/subtype`` of RFC 6838 tokens: a type with CR/LF, quotes or parameters could add a
header or break the part, so the client refuses it before anything is sent (respx)."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest
import respx

from api_client import Attachment, PartnerApiClient, Phone, StaticTokenProvider
from api_client.callbacks import media_type_or_default
from tests.api_client.conftest import BASE_URL, callback_payload

PHONE = Phone(code="7", number="9099708593")
START = f"{BASE_URL}/api/v1/callbackrequest/start-callback"

BAD = [
    "text/plain\r\nX-Injected: 1",
    "text/plain\nX-Injected: 1",
    'text/plain"; name="x',
    "text/plain; charset=utf-8",
    "application",
    "/pdf",
    "application/",
    "a/b/c",
    "",
    "tëxt/plain",
    "text /plain",
    "-x/y",
    "a" * 128 + "/b",
]
GOOD = [
    "application/pdf",
    "image/jpeg",
    "image/svg+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/x-ms-dos-executable",
    "text/x-c++src",
]


def _attachment_type(request: httpx.Request) -> str | None:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "attachment":
            return part.get("content-type")
    return None


@pytest.mark.parametrize("mime", BAD)
async def test_a_malformed_media_type_is_refused_before_sending(mime: str) -> None:
    async with respx.mock(assert_all_called=False) as router:
        route = router.post(START).mock(httpx.Response(200, json=callback_payload()))
        async with PartnerApiClient(BASE_URL, StaticTokenProvider("t")) as api:
            with pytest.raises(ValueError, match="MIME type"):
                await api.start_callback(
                    101, PHONE, "Иванов Иван", attachment=Attachment("a.pdf", b"%PDF", mime)
                )
        assert route.call_count == 0


@pytest.mark.parametrize("mime", GOOD)
async def test_a_well_formed_media_type_travels_as_given(mime: str) -> None:
    async with respx.mock() as router:
        route = router.post(START).mock(httpx.Response(200, json=callback_payload()))
        async with PartnerApiClient(BASE_URL, StaticTokenProvider("t")) as api:
            await api.start_callback(
                101, PHONE, "Иванов Иван", attachment=Attachment("a.bin", b"data", mime)
            )
        assert route.call_count == 1
        assert _attachment_type(route.calls.last.request) == mime


@pytest.mark.parametrize("mime", [*(m for m in BAD if ";" not in m), None])
def test_media_type_or_default_falls_back_to_octet_stream(mime: str | None) -> None:
    assert media_type_or_default(mime) == "application/octet-stream"


def test_media_type_or_default_keeps_a_good_type_and_drops_parameters() -> None:
    assert media_type_or_default("application/pdf") == "application/pdf"
    assert media_type_or_default(" Text/Plain ; charset=utf-8") == "text/plain"
