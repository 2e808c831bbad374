"""Faults injected into the next N requests of a route."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

ROUTES = frozenset(
    {
        "start",
        "get",
        "get_all",
        "terminate",
        "doctor_get",
        "doctor_get_all",
        "token",
        "validation_code",
    }
)
KINDS = frozenset({"503", "500_html", "429", "timeout", "drop", "error"})
# Kinds that answer instead of the route: the request is NOT processed.
ANSWERING_KINDS = frozenset({"503", "500_html", "429", "error"})
# Kinds that process the request and then lose the answer: the outcome is unknown to the
# client, but the consultation exists (the realistic, dangerous case for start-callback).
LOSING_KINDS = frozenset({"timeout", "drop"})


@dataclass
class Fault:
    kind: str
    remaining: int
    params: dict[str, Any] = field(default_factory=dict)


class FaultBook:
    """Pending faults per route, consumed one per request in the order injected."""

    def __init__(self) -> None:
        self._pending: defaultdict[str, deque[Fault]] = defaultdict(deque)

    def add(self, route: str, kind: str, count: int = 1, **params: Any) -> None:
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._pending[route].append(Fault(kind, count, dict(params)))

    def take(self, route: str) -> Fault | None:
        queue = self._pending.get(route)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return Fault(fault.kind, 1, fault.params)

    def pending(self, route: str) -> int:
        return sum(f.remaining for f in self._pending.get(route, ()))

    def clear(self) -> None:
        self._pending.clear()
