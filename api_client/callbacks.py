"""The callback consultation routes of the partner API (``/api/v1/callbackrequest``):
start, get, list (one page, every page, many ids) and terminate.

The rules of repeating each one are in ``api_client/client.py``'s docstring.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import ValidationError

from api_client.errors import ApiUnavailable, AttachmentTooLarge, OutcomeUnknown
from api_client.models import Callback, CallbackPage, Phone, RequestStatus, unwrap_item
from api_client.transport import (
    CALLBACK_ROUTES,
    MAYBE_PROCESSED_STATUSES,
    NOTHING_SENT,
    logger,
    quote_segment,
)
from api_client.url_batches import UrlBatching

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

Order = Literal["Created", "Status"]


class PhoneFormField(enum.StrEnum):
    """How ``patientPhone`` travels in a multipart start (see ``api_client/client.py``)."""

    DOTTED = "dotted"  # patientPhone.code / patientPhone.number (ASP.NET model binding)
    BRACKET = "bracket"  # patientPhone[code] / patientPhone[number]
    JSON = "json"  # patientPhone = '{"code": "7", "number": "..."}'


# RFC 6838, 4.2: type "/" subtype, each a restricted-name of 1-127 characters starting
# with a letter or digit. Nothing else (no parameters, quotes, spaces, CR/LF) goes into the
# part's Content-Type header.
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(f"{_RESTRICTED_NAME}/{_RESTRICTED_NAME}")
DEFAULT_MEDIA_TYPE = "application/octet-stream"


def is_media_type(value: str) -> bool:
    """``type/subtype`` in RFC 6838 token syntax, nothing more."""
    return _MEDIA_TYPE.fullmatch(value) is not None


def media_type_or_default(value: str | None) -> str:
    """A declared MIME type made safe for a header: parameters dropped, lower-cased, and
    ``application/octet-stream`` for anything that is not ``type/subtype``."""
    bare = (value or "").split(";", 1)[0].strip().lower()
    return bare if is_media_type(bare) else DEFAULT_MEDIA_TYPE


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:  # the content (a patient's document) never goes to a log
        return f"Attachment(filename=…, size={len(self.content)}, type={self.content_type!r})"


class CallbackRoutes(UrlBatching):
    """start / get / get-all / terminate of callback consultations."""

    phone_form: PhoneFormField

    async def start_callback(
        self,
        doctor_id: int,
        phone: Phone,
        patient_full_name: str,
        *,
        begin_at: datetime | None = None,
        duration_min: int | None = None,
        attachment: Attachment | None = None,
        notification_url: str | None = None,
    ) -> Callback:
        """Start a callback consultation. Never repeated once it may have reached the server.

        Raises ``AttachmentTooLarge``/``ValueError`` before sending, ``OutcomeUnknown`` when
        the answer was lost, ``ApiUnavailable`` when nothing was done, ``ApiError`` subclasses
        for the service's refusals.
        """
        if attachment is not None and len(attachment.content) > MAX_ATTACHMENT_BYTES:
            raise AttachmentTooLarge(len(attachment.content), MAX_ATTACHMENT_BYTES)
        if attachment is not None and not is_media_type(attachment.content_type):
            # It would go into the part's header as is: never a CR/LF, a quote, a parameter.
            raise ValueError("attachment MIME type must be type/subtype (RFC 6838)")
        if begin_at is not None and begin_at.utcoffset() is None:
            raise ValueError("begin_at must be timezone-aware")
        if duration_min is not None and duration_min <= 0:
            raise ValueError("duration_min must be positive")

        fields: dict[str, str] = {
            "doctorId": str(doctor_id),
            "patientFullName": patient_full_name,
        }
        if begin_at is not None:
            fields["beginAtUtc"] = begin_at.astimezone(UTC).isoformat(timespec="seconds")
        if duration_min is not None:
            fields["duration"] = str(duration_min)
        if notification_url is not None:
            fields["externalNotificationUrl"] = notification_url

        content: dict[str, Any]
        if attachment is None:
            body: dict[str, Any] = {
                "doctorId": doctor_id,
                "patientPhone": {"code": phone.code, "number": phone.number},
                **{k: v for k, v in fields.items() if k != "doctorId"},
            }
            if duration_min is not None:
                body["duration"] = duration_min
            content = {"json": body}
        else:
            content = {
                "data": {**fields, **self._phone_fields(phone)},
                "files": {
                    "attachment": (attachment.filename, attachment.content, attachment.content_type)
                },
            }

        url = f"{self._base}{CALLBACK_ROUTES}/start-callback"
        response = await self._send_start(url, content)
        if response.status_code >= 400:
            if response.status_code in MAYBE_PROCESSED_STATUSES:
                raise OutcomeUnknown(f"start-callback answered {response.status_code} by a gateway")
            raise self._error(response)
        try:
            callback = Callback.parse_payload(response.json())
        except (ValueError, ValidationError) as exc:
            # The service said yes but we cannot read which consultation it created.
            raise OutcomeUnknown("start-callback answer could not be read") from exc
        logger.info(
            "partner_api started callback_id=%s doctor_id=%s", callback.id, doctor_id,
            extra={"callback_id": callback.id, "doctor_id": doctor_id},
        )
        return callback

    def _phone_fields(self, phone: Phone) -> dict[str, str]:
        if self.phone_form is PhoneFormField.BRACKET:
            return {"patientPhone[code]": phone.code, "patientPhone[number]": phone.number}
        if self.phone_form is PhoneFormField.JSON:
            return {"patientPhone": json.dumps({"code": phone.code, "number": phone.number})}
        return {"patientPhone.code": phone.code, "patientPhone.number": phone.number}

    async def _send_start(self, url: str, content: dict[str, Any]) -> httpx.Response:
        refreshed = False
        while True:
            token = await self._tokens.get_token()
            try:
                response = await self._send_once("POST", url, "start-callback", token, content)
            except NOTHING_SENT as exc:
                raise ApiUnavailable(f"start-callback not sent: {type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                raise OutcomeUnknown(f"start-callback answer lost: {type(exc).__name__}") from exc
            if not refreshed and self._is_token_refused(response):
                refreshed = True
                await self._refresh(token, response)
                continue
            return response

    async def get_callback(self, callback_id: str) -> Callback:
        data = await self._get_json(
            f"{CALLBACK_ROUTES}/get/{quote_segment(callback_id)}", "get", callback_id=callback_id
        )
        return self._parse(Callback, data)

    async def list_callbacks(
        self,
        *,
        ids: Sequence[str] | None = None,
        statuses: Iterable[RequestStatus | str] | None = None,
        order: Order = "Created",
        asc: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> CallbackPage:
        params = self._list_params(ids, statuses, order, asc, limit, offset)
        data = await self._get_json(f"{CALLBACK_ROUTES}/get-all", "get-all", params=params)
        return self._parse(CallbackPage, data)

    async def iter_callbacks(
        self,
        *,
        ids: Sequence[str] | None = None,
        statuses: Iterable[RequestStatus | str] | None = None,
        order: Order = "Created",
        asc: bool = False,
        page_size: int = 50,
    ) -> AsyncIterator[Callback]:
        """Every matching consultation, page by page. A consultation that shifts between
        pages while iterating (new ones arrive on top) is yielded once."""
        status_list = list(statuses) if statuses is not None else None
        seen: set[str] = set()
        offset = 0
        while True:
            page = await self.list_callbacks(
                ids=ids, statuses=status_list, order=order, asc=asc,
                limit=page_size, offset=offset,
            )
            for item in page.items:
                if item.id not in seen:
                    seen.add(item.id)
                    yield item
            # Unreadable entries (dropped by the model) still advance the offset.
            offset += page.received
            if not page.received or (
                page.total_count is not None and offset >= page.total_count
            ):
                return
            if page.total_count is None and page.received < page_size:
                return

    async def terminate_callback(self, callback_id: str) -> bool:
        """Terminate; True when the service confirms. Safe to repeat on network errors."""
        url = f"{self._base}{CALLBACK_ROUTES}/terminate-callback"
        response, maybe_sent = await self._send_repeatable(
            "POST", url, "terminate-callback", {"json": {"requestId": callback_id}},
            callback_id=callback_id,
        )
        if response.status_code == 409 and maybe_sent:
            # An earlier attempt got through and terminated it; this repeat is the echo.
            logger.info("partner_api terminate repeat answered 409: counted as success",
                        extra={"callback_id": callback_id})
            return True
        if response.status_code >= 400:
            raise self._error(response)
        try:
            data = unwrap_item(response.json()) if response.content.strip() else None
        except ValueError:
            return True  # a 2xx without a JSON body: the service did not object
        if isinstance(data, dict) and "success" in data:
            return data["success"] is True
        return True

    async def get_many(self, ids: Iterable[str]) -> list[Callback]:
        """Consultations for ``ids`` through ``get-all``, in batches whose URL fits
        ``max_url_length``. Returned in the order of ``ids``; ids the service does not
        return are absent."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Callback] = {}
        for batch in self._url_batches(wanted):
            offset = 0
            while True:
                page = await self.list_callbacks(ids=batch, limit=len(batch), offset=offset)
                for item in page.items:
                    found[item.id] = item
                offset += page.received  # unreadable entries dropped still count
                # A server that caps `limit` below the batch size: page through the rest.
                total = page.total_count if page.total_count is not None else offset
                if not page.received or offset >= min(total, len(batch)):
                    break
        return [found[i] for i in wanted if i in found]
