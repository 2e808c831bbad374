"""Reading the partner API's input as the real service does: case-insensitive fields,
JSON, urlencoded or multipart starts, phones, times, paging; 400 bad_argument otherwise."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, hdrs, web
from multidict import MultiMapping

from .middleware import DEFAULT_LIMIT, _bad
from .records import SandboxError
from .state import Sandbox


# ---------------------------------------------------------------------- input parsing
def _lower_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    # ASP.NET binds parameter names case-insensitively.
    return {str(k).lower(): v for k, v in data.items()}


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _parse_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad(name, f"{name} must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _bad(name, f"{name} must be an integer.")


def _parse_phone(fields: dict[str, Any]) -> tuple[str, str]:
    raw = fields.get("patientphone")
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if isinstance(raw, Mapping):
        phone = _lower_keys(raw)
        code, number = phone.get("code"), phone.get("number")
    else:
        code = fields.get("patientphone.code", fields.get("patientphone[code]"))
        number = fields.get("patientphone.number", fields.get("patientphone[number]"))
    code_text = str(code).strip().lstrip("+") if isinstance(code, str | int) else ""
    number_text = str(number).strip() if isinstance(number, str | int) else ""
    if not (code_text.isdigit() and 1 <= len(code_text) <= 4):
        raise _bad("patientPhone", "patientPhone.code must be 1-4 digits.")
    if not (number_text.isdigit() and 4 <= len(number_text) <= 14):
        raise _bad("patientPhone", "patientPhone.number must be 4-14 digits.")
    return code_text, number_text


def _parse_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(name, f"{name} must be an ISO 8601 date and time.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _bad(name, f"{name} must be an ISO 8601 date and time.") from None
    # Naive stamps are UTC, as everywhere in this API.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


async def _read_start_fields(
    request: web.Request, sandbox: Sandbox
) -> tuple[dict[str, Any], tuple[str, str, bytes] | None]:
    content_type = request.content_type
    if content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise _bad("body", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise _bad("body", "The body must be a JSON object.")
        return _lower_keys(data), None
    if content_type == "multipart/form-data":
        return await _read_multipart(request, sandbox.config.max_attachment_bytes)
    if content_type == "application/x-www-form-urlencoded":
        return _lower_keys(await request.post()), None
    raise _bad("body", "Send JSON or multipart/form-data.")


async def _read_multipart(
    request: web.Request, limit: int
) -> tuple[dict[str, Any], tuple[str, str, bytes] | None]:
    reader = await request.multipart()
    fields: dict[str, Any] = {}
    attachment: tuple[str, str, bytes] | None = None
    too_large = False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue  # nested multipart: not part of this API
        if part.name == "attachment" and part.filename is not None:
            content = bytearray()
            # Read to the end even when too large, so the client gets the 400, not a reset.
            while chunk := await part.read_chunk(64 * 1024):
                if len(content) + len(chunk) > limit:
                    too_large = True
                    content.clear()
                elif not too_large:
                    content += chunk
            mime = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
            attachment = (part.filename, mime, bytes(content))
        elif part.name:
            fields[part.name.lower()] = await part.text()
    if too_large:
        raise SandboxError(
            400, "limit_exceeded", "attachment", f"The attachment is larger than {limit} bytes."
        )
    return fields, attachment


def _repeated(query: MultiMapping[str], name: str) -> list[str]:
    # Repeated keys (ids=a&ids=b) as documented; `ids[]` tolerated as well.
    return [v for key in (name, name + "[]") for v in query.getall(key, []) if v != ""]


def _paging(query: MultiMapping[str], sandbox: Sandbox) -> tuple[int, int]:
    limit = _parse_int(query.get("limit", DEFAULT_LIMIT), "limit")
    offset = _parse_int(query.get("offset", 0), "offset")
    if limit < 1:
        raise _bad("limit", "limit must be positive.")
    if offset < 0:
        raise _bad("offset", "offset must not be negative.")
    return min(limit, sandbox.config.max_page_size), offset


def _parse_bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad(name, f"{name} must be true or false.")
