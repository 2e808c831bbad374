"""Runtime tests use the shared fixtures of tests/bot_fixtures.py."""

from tests.bot_fixtures import *  # noqa: F403
