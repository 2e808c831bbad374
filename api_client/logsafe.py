"""An exception as a log may show it: type names and code locations, never the message.

Exception texts carry values: pydantic's ``ValidationError`` quotes the offending input
(``input_value='Петров Пётр'``), a database error quotes the row, and ``log.exception``
prints the whole chain (``raise … from exc``) with them. The partner API's answers carry
patient names and phones, so a log line gets what this function gives and no more. Here,
in the lowest layer, so the client, the sandbox and the bot all use the one rule.
"""

from __future__ import annotations

import traceback

_FRAMES = 6  # innermost frames per exception: where it happened, not the whole stack
_CHAIN = 4  # causes followed (``__cause__`` / ``__context__``)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-_FRAMES:]
    return " <- ".join(f"{f.name}@{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in frames[::-1])


def describe(exc: BaseException) -> str:
    """``Type at f@file:line <- …; from Cause at …`` for ``exc`` and its causes."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < _CHAIN:
        seen.add(id(current))
        where = _where(current)
        parts.append(f"{type(current).__name__} at {where}" if where else type(current).__name__)
        current = current.__cause__ or current.__context__
    return "; from ".join(parts)
