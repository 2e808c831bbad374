"""Handlers of the private control routes under /_sandbox/ (statuses, reports, faults,
recorded requests and notifications, seeding, SMS code, tokens, doctors)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .middleware import SANDBOX_KEY, _json
from .seed import doctor_full_name


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
