"""The aiohttp application: the partner API routes, the 414/fault/auth middleware and the
private control routes under /_sandbox/.

Layout: ``middleware`` (answers, faults, the middleware), ``parsing`` (reading input),
``api_routes`` (the partner API handlers), ``control_routes`` (the /_sandbox/ handlers);
this module wires them into one application.
"""

from __future__ import annotations

from aiohttp import web

from .api_routes import (
    get_all_callbacks,
    get_all_doctors,
    get_callback,
    get_doctor,
    start_callback,
    terminate_callback,
    token,
    validation_code,
)
from .control_routes import (
    control_add_fault,
    control_clear_faults,
    control_clear_requests,
    control_doctors,
    control_expire_token,
    control_notifications,
    control_notify,
    control_report,
    control_requests,
    control_seed,
    control_set_status,
    control_sms_code,
)
from .middleware import API, CONTROL, SANDBOX_KEY, api_middleware
from .state import Sandbox

__all__ = ["SANDBOX_KEY", "create_app"]


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
