"""Expected outages log as state changes, not as errors.

A partner API that is down, or a database lock held for a while, fails every batch and
every hit until it ends: one WARNING when it begins (with the error's type), one when it
ends (with how many failures it cost), and nothing per failure in between. Tracebacks are
for the unexpected: callers log anything that is not an expected error with
``log.exception`` as before.
"""

from __future__ import annotations

import logging


class OutageLog:
    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._log = logger
        self._what = what
        self.failures = 0  # failures of the outage in progress (0: none)

    @property
    def in_outage(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException) -> None:
        if self.failures == 0:
            self._log.warning("%s_outage_began error=%s", self._what, type(exc).__name__)
        self.failures += 1

    def ok(self) -> None:
        if self.failures:
            self._log.warning("%s_outage_ended failures=%d", self._what, self.failures)
        self.failures = 0
