"""Settings of the partner API emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SandboxConfig:
    """How the emulator behaves.

    `pace` is the number of seconds between two automatic status steps; None means
    nothing moves by itself (tests move consultations through the control API).
    """

    pace: float | None = None
    # Share (0..1) of started consultations that end Unsuccessful (patient did not answer).
    unsuccessful_share: float = 0.0
    # The wider API's doctor routes; off → 404 on the route itself, like a deployment
    # that does not offer them.
    doctor_routes: bool = True
    # None → any bearer token is accepted (plus tokens issued by /token);
    # set → only this token and tokens issued by /token are accepted.
    required_token: str | None = None
    # IIS refuses longer request targets (path + query string) with 414.
    max_url_length: int = 2048
    # Seed of the emulator's random choices (outcomes, call lengths, seeded data).
    seed: int = 0
    # Aware-UTC clock used for "past"/"future" checks and every timestamp.
    now: Callable[[], datetime] = field(default=utc_now)
    # How the status life waits between steps (tests pass testing.ManualPace to step it).
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    # Later versions of the API wrap single objects as {"item": {...}}.
    item_wrapper: bool = False
    # How long a "timeout" fault holds the answer (longer than any client timeout).
    fault_hold: float = 30.0
    # The SMS code /api/v1/access/validation-code "sends".
    sms_code: str = "123456"
    # Largest attachment accepted by start-callback.
    max_attachment_bytes: int = 10 * 1024 * 1024
    # Largest page get-all returns; a bigger `limit` is clamped (count/totalCount stay true).
    max_page_size: int = 100
    # beginAtUtc this many seconds in the past is still accepted (clock skew, slow typing).
    past_grace: float = 60.0
    # Timeout of one notification GET to externalNotificationUrl.
    notify_timeout: float = 5.0
    # Allowed range of `duration` (minutes).
    max_duration_min: int = 240
