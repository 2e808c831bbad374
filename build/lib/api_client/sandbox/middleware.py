"""The sandbox's HTTP basics: app keys and prefixes, JSON and error answers, injected
faults, and the 414/fault/auth middleware every request passes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import hdrs, web

from .faults import ANSWERING_KINDS, Fault
from .records import RequestRecord, SandboxError
from .seed import JSON
from .state import Sandbox

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
