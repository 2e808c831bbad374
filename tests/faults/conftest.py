"""Fault cases: what is injected → what happens (the table in README.md)."""

from tests.bot_fixtures import *  # noqa: F403
from tests.wizard.conftest import *  # noqa: F403  (env: the wizard against the sandbox)
