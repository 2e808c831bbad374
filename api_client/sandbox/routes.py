"""The aiohttp application: the partner API routes, the 414/fault/auth middleware and the
private control routes under /_sandbox/."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, hdrs, web
from multidict import MultiMapping

from .faults import ANSWERING_KINDS, Fault
from .records import RequestRecord, SandboxError, TokenError, normalize_status
from .seed import JSON, STATUS_ORDER, doctor_full_name
from .state import Sandbox

log = logging.getLogger("api_client.sandbox")

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
API = "/api/v1"
CONTROL = "/_sandbox"
# Routes that need a bearer token (the auth endpoints do not).
AUTH_ROUTES = frozenset({"start", "get", "get_all", "terminate", "doctor_get", "doctor_get_all"})
DEFAULT_LIMIT = 10

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---------------------------------------------------------------------- answers
def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _error(exc: SandboxError) -> web.Response:
    return _json(exc.body(), status=exc.status)


def _bad(value: str, description: str) -> SandboxError:
    return SandboxError(400, "bad_argument", value, description)


def _item(sandbox: Sandbox, obj: JSON) -> web.Response:
    return _json({"item": obj} if sandbox.config.item_wrapper else obj)


def _fault_response(fault: Fault) -> web.Response:
    params = fault.params
    if fault.kind == "503":
        # Real outages answer from a proxy: no JSON, often an empty body.
        body = str(params.get("body", "Service Unavailable"))
        return web.Response(status=503, text=body, content_type="text/plain")
    if fault.kind == "500_html":
        return web.Response(
            status=500,
            text="<html><body><h1>500 - Internal server error.</h1></body></html>",
            content_type="text/html",
        )
    if fault.kind == "429":
        retry_after = params.get("retry_after", 1)
        return web.Response(
            status=429,
            text="Too Many Requests",
            headers={hdrs.RETRY_AFTER: str(retry_after)},
        )
    # "error": a well-formed API error of the caller's choice.
    return _json(
        {
            "type": params.get("type", "internal_server_error"),
            "value": params.get("value"),
            "description": params.get("description", "Injected error."),
        },
        status=int(params.get("status", 500)),
    )


def _drop_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


# ---------------------------------------------------------------------- middleware
@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sandbox = request.app[SANDBOX_KEY]
    path_qs = request.raw_path
    if len(path_qs) > sandbox.config.max_url_length:
        # What IIS does with a long query string: a bare HTML 414.
        sandbox.requests.append(
            RequestRecord(_route_name(request), request.method, path_qs, sandbox.now(), "414")
        )
        return web.Response(
            status=414,
            text="<html><body><h1>414 Request-URI Too Long</h1></body></html>",
            content_type="text/html",
        )
    if request.path.startswith(CONTROL + "/"):
        return await handler(request)

    route = _route_name(request)
    fault = sandbox.faults.take(route) if route else None
    sandbox.requests.append(
        RequestRecord(route, request.method, path_qs, sandbox.now(), fault.kind if fault else None)
    )
    if fault is not None and fault.kind in ANSWERING_KINDS:
        return _fault_response(fault)
    if route in AUTH_ROUTES and not sandbox.token_valid(_bearer(request)):
        return _error(
            SandboxError(403, "oauth", "token", "The access token is invalid or expired.")
        )
    try:
        response = await handler(request)
    except SandboxError as exc:
        response = _error(exc)
    if fault is not None and fault.kind == "timeout":
        # The request was processed; only the answer comes too late for the client.
        await sandbox.hold(float(fault.params.get("hold", sandbox.config.fault_hold)))
    elif fault is not None and fault.kind == "drop":
        # Processed, then the connection goes away unanswered.
        _drop_connection(request)
    return response


def _route_name(request: web.Request) -> str | None:
    name = request.match_info.route.name
    return name if name and not name.startswith("control_") else None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


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


# ---------------------------------------------------------------------- control handlers
async def _control_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON body expected") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return data


def _control_record(request: web.Request) -> str:
    sandbox = request.app[SANDBOX_KEY]
    callback_id = request.match_info["id"]
    if callback_id not in sandbox.callbacks:
        raise web.HTTPNotFound(text="no such consultation")
    return callback_id


async def control_set_status(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    callback_id = _control_record(request)
    body = await _control_body(request)
    statuses = body.get("statuses") or ([body["status"]] if "status" in body else [])
    if not isinstance(statuses, list) or not statuses:
        raise web.HTTPBadRequest(text="statuses: a non-empty list expected")
    record = await sandbox.set_status(
        callback_id, *[str(s) for s in statuses], notify=bool(body.get("notify", True))
    )
    return _json(sandbox.callback_json(record))


async def control_notify(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    http_status = await sandbox.notify(_control_record(request))
    return _json({"httpStatus": http_status})


async def control_report(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    callback_id = _control_record(request)
    text = (await _control_body(request)).get("text")
    if not isinstance(text, str):
        raise web.HTTPBadRequest(text="text expected")
    sandbox.set_report(callback_id, text)
    return _json({"ok": True})


async def control_add_fault(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    body = dict(await _control_body(request))
    route, kind = body.pop("route", None), body.pop("kind", None)
    count = body.pop("count", 1)
    try:
        sandbox.inject_fault(str(route), str(kind), int(count), **body)
    except (TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return _json({"ok": True})


async def control_clear_faults(request: web.Request) -> web.Response:
    request.app[SANDBOX_KEY].faults.clear()
    return _json({"ok": True})


async def control_requests(request: web.Request) -> web.Response:
    return _json(
        [
            {
                "route": r.route,
                "method": r.method,
                "pathQs": r.path_qs,
                "at": r.at.isoformat(),
                "fault": r.fault,
            }
            for r in request.app[SANDBOX_KEY].requests
        ]
    )


async def control_clear_requests(request: web.Request) -> web.Response:
    request.app[SANDBOX_KEY].clear_requests()
    return _json({"ok": True})


async def control_notifications(request: web.Request) -> web.Response:
    return _json(
        [
            {
                "callbackId": n.callback_id,
                "status": n.status,
                "httpStatus": n.http_status,
                "error": n.error,
            }
            for n in request.app[SANDBOX_KEY].notifications
        ]
    )


async def control_seed(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    body = await _control_body(request)
    phone = body.get("phone")
    ids = sandbox.seed_callbacks(
        int(body.get("n", 20)),
        int(body["seed"]) if "seed" in body else None,
        phone=str(phone) if phone else None,
    )
    return _json({"ids": ids})


async def control_sms_code(request: web.Request) -> web.Response:
    return _json({"code": request.app[SANDBOX_KEY].last_sms_code})


async def control_expire_token(request: web.Request) -> web.Response:
    token_value = (await _control_body(request)).get("token")
    if not isinstance(token_value, str) or not token_value:
        raise web.HTTPBadRequest(text="token expected")
    request.app[SANDBOX_KEY].expire_token(token_value)
    return _json({"ok": True})


async def control_doctors(request: web.Request) -> web.Response:
    # A short directory for humans poking at a standalone sandbox (names are not patient data).
    sandbox = request.app[SANDBOX_KEY]
    return _json([{"id": i, "name": doctor_full_name(d)} for i, d in sandbox.doctors.items()])


# ---------------------------------------------------------------------- application
def create_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(
        middlewares=[api_middleware],
        # Bodies read whole (JSON, urlencoded); multipart is streamed with its own limit.
        client_max_size=sandbox.config.max_attachment_bytes + 1024 * 1024,
    )
    app[SANDBOX_KEY] = sandbox
    cb = f"{API}/callbackrequest"
    app.router.add_post(f"{cb}/start-callback", start_callback, name="start")
    app.router.add_get(f"{cb}/get/{{id}}", get_callback, name="get")
    app.router.add_get(f"{cb}/get-all", get_all_callbacks, name="get_all")
    app.router.add_post(f"{cb}/terminate-callback", terminate_callback, name="terminate")
    if sandbox.config.doctor_routes:
        app.router.add_get(f"{API}/doctor/get/{{id}}", get_doctor, name="doctor_get")
        app.router.add_get(f"{API}/doctor/get-all", get_all_doctors, name="doctor_get_all")
    app.router.add_post(f"{API}/access/validation-code", validation_code, name="validation_code")
    app.router.add_post("/token", token, name="token")

    c = CONTROL
    app.router.add_post(f"{c}/callbacks/{{id}}/status", control_set_status, name="control_status")
    app.router.add_post(f"{c}/callbacks/{{id}}/notify", control_notify, name="control_notify")
    app.router.add_post(f"{c}/callbacks/{{id}}/report", control_report, name="control_report")
    app.router.add_post(f"{c}/faults", control_add_fault, name="control_faults")
    app.router.add_delete(f"{c}/faults", control_clear_faults, name="control_faults_clear")
    app.router.add_get(f"{c}/requests", control_requests, name="control_requests")
    app.router.add_delete(f"{c}/requests", control_clear_requests, name="control_requests_clear")
    app.router.add_get(f"{c}/notifications", control_notifications, name="control_notifications")
    app.router.add_post(f"{c}/seed", control_seed, name="control_seed")
    app.router.add_get(f"{c}/sms-code", control_sms_code, name="control_sms_code")
    app.router.add_post(f"{c}/tokens/expire", control_expire_token, name="control_expire")
    app.router.add_get(f"{c}/doctors", control_doctors, name="control_doctors")

    async def on_shutdown(_: web.Application) -> None:
        sandbox.begin_close()  # release held "timeout" answers before the server waits

    async def on_cleanup(_: web.Application) -> None:
        await sandbox.close()

    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app
