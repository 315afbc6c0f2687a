"""Counters for tests: what the simulator did, thread-safe, as plain JSON-ready data."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

__all__ = ["Counters"]

_KNOWN = (
    "tasks_created",
    "callbacks.attempts",
    "callbacks.delivered",
    "callbacks.failed",
    "callbacks.refused",
    "faults.latency",
    "faults.drop_before",
    "faults.drop_after",
    "faults.5xx_before",
    "faults.5xx_after",
    "faults.429",
    "faults.rate_limited",
    "references.fetched",
    "references.internal",
    "references.skipped",
    "references.failed",
    "files.served",
    "files.expired",
    "errors.unreadable_body",
    "idempotency.replayed",
    "idempotency.conflicts",
    "idempotency.in_progress",
    "idempotency.ignored",
    "batch.ids_requested",
    "batch.ids_found",
)


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Listed up front so a snapshot shows zeros rather than missing keys.
        self._events: Counter[str] = Counter(dict.fromkeys(_KNOWN, 0))
        self._requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._credits_charged = 0.0
        self._credits_refunded = 0.0

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._events[name] += amount

    def request(self, route: str, status: int | str) -> None:
        with self._lock:
            self._requests[route][str(status)] += 1

    def charge(self, credits: float) -> None:
        with self._lock:
            self._credits_charged += credits

    def add_refund(self, credits: float) -> None:
        with self._lock:
            self._credits_refunded += credits

    def snapshot(self, *, credits_remaining: float | None) -> dict[str, Any]:
        """``{"tasks_created", "credits_charged", "credits_refunded", "credits_remaining", "requests": {...}, ...}``.

        ``credits_charged`` counts every pre-charge that kept its task; ``credits_refunded`` what failed tasks
        gave back; ``idempotency`` counts replays, conflicts, in-progress refusals and ignored keys.
        """
        with self._lock:
            events = dict(self._events)
            return {
                "tasks_created": events.pop("tasks_created", 0),
                "credits_charged": round(self._credits_charged, 6),
                "credits_refunded": round(self._credits_refunded, 6),
                "credits_remaining": None if credits_remaining is None else round(credits_remaining, 6),
                "requests": {route: dict(statuses) for route, statuses in sorted(self._requests.items())},
                "callbacks": _group(events, "callbacks."),
                "faults": _group(events, "faults."),
                "references": _group(events, "references."),
                "files": _group(events, "files."),
                "errors": _group(events, "errors."),
                "idempotency": _group(events, "idempotency."),
                "batch": _group(events, "batch."),
            }


def _group(events: dict[str, int], prefix: str) -> dict[str, int]:
    return {name[len(prefix) :]: count for name, count in sorted(events.items()) if name.startswith(prefix)}
