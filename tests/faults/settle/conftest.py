"""The settle path against the sandbox (the notification tests' harness)."""

from tests.notifications.conftest import *  # noqa: F403
