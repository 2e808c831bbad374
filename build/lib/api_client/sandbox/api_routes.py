"""Handlers of the partner API routes: callbackrequest (start, get, get-all, terminate),
doctor (get, get-all) and the auth endpoints (validation code, token)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from .middleware import SANDBOX_KEY, _bad, _item, _json
from .parsing import (
    _lower_keys,
    _paging,
    _parse_bool,
    _parse_datetime,
    _parse_int,
    _parse_phone,
    _present,
    _read_start_fields,
    _repeated,
)
from .records import TokenError, normalize_status
from .seed import STATUS_ORDER


# ---------------------------------------------------------------------- API handlers
async def start_callback(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    fields, attachment = await _read_start_fields(request, sandbox)
    if not _present(fields.get("doctorid")):
        raise _bad("doctorId", "doctorId is required.")
    doctor_id = _parse_int(fields["doctorid"], "doctorId")
    phone = _parse_phone(fields)
    name = fields.get("patientfullname")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise _bad("patientFullName", "patientFullName must be a non-empty string.")
    begin_at = None
    if _present(fields.get("beginatutc")):
        begin_at = _parse_datetime(fields["beginatutc"], "beginAtUtc")
        if begin_at < sandbox.now() - timedelta(seconds=sandbox.config.past_grace):
            raise _bad("beginAtUtc", "beginAtUtc is in the past.")
    duration = None
    if _present(fields.get("duration")):
        duration = _parse_int(fields["duration"], "duration")
        if not 1 <= duration <= sandbox.config.max_duration_min:
            raise _bad(
                "duration", f"duration must be 1..{sandbox.config.max_duration_min} minutes."
            )
    url = fields.get("externalnotificationurl")
    if _present(url):
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _bad("externalNotificationUrl", "externalNotificationUrl must be an http(s) URL.")
    record = sandbox.start_callback(
        doctor_id=doctor_id,
        phone=phone,
        patient_full_name=name.strip(),
        begin_at=begin_at,
        duration_min=duration,
        notification_url=str(url) if _present(url) else None,
        attachment=attachment,
    )
    return _item(sandbox, sandbox.callback_json(record))


async def get_callback(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    record = sandbox.get_record(request.match_info["id"])
    return _item(sandbox, sandbox.callback_json(record))


async def get_all_callbacks(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    query = request.query
    statuses = []
    for raw in _repeated(query, "statuses"):
        status = normalize_status(raw)
        if status not in STATUS_ORDER:
            raise _bad("statuses", f"Unknown status {raw!r}.")
        statuses.append(status)
    order = query.get("order", "Created").strip().capitalize()
    if order not in ("Created", "Status"):
        raise _bad("order", "order must be Created or Status.")
    asc = _parse_bool(query.get("asc", "false"), "asc")
    limit, offset = _paging(query, sandbox)
    items, total = sandbox.list_callbacks(
        ids=_repeated(query, "ids"),
        statuses=statuses,
        order=order,
        asc=asc,
        limit=limit,
        offset=offset,
    )
    return _json(
        {
            "items": [sandbox.callback_json(r) for r in items],
            "count": len(items),
            "totalCount": total,
        }
    )


async def terminate_callback(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    fields: dict[str, Any] = {}
    if request.content_type == "application/json" and request.can_read_body:
        try:
            data = await request.json()
        except ValueError:
            raise _bad("body", "The body is not valid JSON.") from None
        if isinstance(data, dict):
            fields = _lower_keys(data)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = _lower_keys(await request.post())
    request_id = fields.get("requestid") or request.query.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        raise _bad("requestId", "requestId is required.")
    record = sandbox.terminate(request_id)
    # Like the real service, the notification goes out on its own, after the answer.
    sandbox.spawn(sandbox.notify(record.id))
    return _json({"success": True})


async def get_doctor(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    doctor_id = _parse_int(request.match_info["id"], "id")
    return _item(sandbox, sandbox.doctor_json(sandbox.get_doctor(doctor_id)))


async def get_all_doctors(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    query = request.query
    last = query.get("lastName", "").strip().lower()
    first = query.get("firstName", "").strip().lower()
    specialty_ids = {_parse_int(v, "specialtyIds") for v in _repeated(query, "specialtyIds")}
    limit, offset = _paging(query, sandbox)
    matching = [
        d
        for _, d in sorted(sandbox.doctors.items())
        if str(d.get("lastName", "")).lower().startswith(last)
        and str(d.get("firstName", "")).lower().startswith(first)
        and (not specialty_ids or specialty_ids & {s["id"] for s in d.get("specialties", [])})
    ]
    page = matching[offset : offset + limit]
    return _json(
        {
            "items": [sandbox.doctor_json(d) for d in page],
            "count": len(page),
            "totalCount": len(matching),
        }
    )


async def validation_code(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    phone: Any = None
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise _bad("phone", "The body is not valid JSON.") from None
        if isinstance(data, dict):
            lowered = _lower_keys(data)
            phone = lowered.get("phone", lowered if "number" in lowered else None)
    else:
        phone = (await request.post()).get("phone")
    if isinstance(phone, Mapping):
        parts = _lower_keys(phone)
        phone = f"{parts.get('code', '')}{parts.get('number', '')}"
    digits = "".join(c for c in str(phone) if c.isdigit()) if isinstance(phone, str | int) else ""
    if len(digits) < 6:
        raise _bad("phone", "phone is required.")
    sandbox.tokens.request_sms_code(str(phone))
    return _json({"success": True})


async def token(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    form = await request.post()
    grant = str(form.get("grant_type", ""))
    try:
        if grant == "password":
            pair = sandbox.tokens.grant_password(
                str(form.get("username", "")), str(form.get("password", ""))
            )
        elif grant == "refresh_token":
            pair = sandbox.tokens.grant_refresh(str(form.get("refresh_token", "")))
        else:
            raise TokenError("unsupported_grant_type", "Use password or refresh_token.")
    except TokenError as exc:
        return _json({"error": exc.error, "error_description": exc.description}, status=400)
    return _json(pair)
