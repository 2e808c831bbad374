"""Operator commands of ``python -m bot``: ``check``, ``backup``, ``partner-login``.

Each module exposes ``main(settings, args) -> int`` (looked up lazily by ``bot/cli.py``)
and an async function with injectable input/output for the tests.
"""

from __future__ import annotations

OK = "✓"
FAIL = "✗"
