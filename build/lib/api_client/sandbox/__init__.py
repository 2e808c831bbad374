"""An emulator of the partner API (aiohttp): the bot's embedded default and the tests' server.

It is deliberately independent of `api_client.models`: it builds plain JSON by hand, so it
tests the client's parser rather than mirroring it.
"""

from .config import SandboxConfig, utc_now
from .faults import KINDS as FAULT_KINDS
from .faults import ROUTES as FAULT_ROUTES
from .records import CallbackRecord, NotificationRecord, RequestRecord, SandboxError
from .routes import SANDBOX_KEY, create_app
from .seed import (
    DISABLED_DOCTOR_ID,
    FIRST_DOCTOR_ID,
    LONG_REPORT_DOCTOR_ID,
    STATUS_NAMES,
    STATUS_ORDER,
    UNAVAILABLE_DOCTOR_ID,
)
from .server import SandboxServer
from .state import Sandbox

__all__ = [
    "DISABLED_DOCTOR_ID",
    "FAULT_KINDS",
    "FAULT_ROUTES",
    "FIRST_DOCTOR_ID",
    "LONG_REPORT_DOCTOR_ID",
    "SANDBOX_KEY",
    "STATUS_NAMES",
    "STATUS_ORDER",
    "UNAVAILABLE_DOCTOR_ID",
    "CallbackRecord",
    "NotificationRecord",
    "RequestRecord",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxServer",
    "create_app",
    "utc_now",
]
