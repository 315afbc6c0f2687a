"""The sync side of ``_async/_primitives``: written by hand, the same names."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .._ledger import Ledger

__all__ = ["Call", "Cancelled", "Gate", "Signal", "Sleep", "default_sleep", "each", "ledger_write"]

T = TypeVar("T")

Call = Callable[[], T]
Sleep = Callable[[float], None]
default_sleep: Sleep = time.sleep
Signal = threading.Event


def each(calls: Sequence[Call[T]]) -> list[T]:
    """Run ``calls`` one after the other (the async side runs them concurrently); their results in order."""
    return [call() for call in calls]


class Cancelled(BaseException):
    """Never raised: nothing cancels a sync call from outside (``KeyboardInterrupt`` is not a cancellation)."""


def ledger_write(ledger: Ledger, write: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Write on the caller's thread: the sync client waits for its own fsync."""
    return write(*args, **kwargs)


class Gate:
    """At most ``limit`` calls in flight at once across threads (None: no limit); the rest wait their turn."""

    def __init__(self, limit: int | None) -> None:
        self._semaphore = None if limit is None else threading.Semaphore(limit)

    def run(self, call: Call[T]) -> T:
        if self._semaphore is None:
            return call()
        with self._semaphore:
            return call()
