"""Decoding Bot API parameters the way Telegram accepts them.

aiogram sends form data (multipart when files are attached): scalars as strings, nested
objects (reply_markup, entities, scope, ...) as JSON strings, uploads as `attach://<field>`.
Plain JSON bodies and query strings are accepted as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content_type: str | None
    content: bytes


class Params:
    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("the JSON request body must be an Object")
            values.update(body)
        elif request.method == "POST":
            try:
                form = await request.post()
            except ValueError:
                raise bad_request("can't parse the request body") from None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[key] = value
        return cls(values, uploads)

    def as_log(self) -> dict[str, Any]:
        logged = dict(self.values)
        for key, upload in self.uploads.items():
            logged[key] = f"<upload {upload.filename!r} {len(upload.content)} bytes>"
        return logged

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name] not in (None, "")

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def required_str(self, name: str) -> str:
        value = self.string(name)
        if value is None:
            raise bad_request(f"parameter {name} is required")
        return value

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def json_value(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_ref(self) -> int | str:
        """chat_id as int, or "@username" as given."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            return str(value)
