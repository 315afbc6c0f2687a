"""The simulator's time source, injectable so tests can move time instead of sleeping.

A clock gives *real* seconds; the simulator turns simulated durations into
real ones with ``time_scale``. :class:`ManualClock` only moves when told to,
and wakes anything sleeping on it (callback deliveries) from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (task timelines, link expiry, rate windows)."""
        ...

    def time(self) -> float:
        """Unix time (the ``created`` field and task ids)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until ``monotonic()`` has moved on by ``seconds``."""
        ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """Time that moves only with :meth:`advance`; ``time()`` starts at ``start`` (a fixed unix time)."""

    def __init__(self, start: float = 1_757_165_031.0) -> None:
        self._start = start
        self._now = 0.0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._sleepers: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self._start + self.monotonic()

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError(f"seconds: time only moves forward (got {seconds!r})")
        with self._lock:
            target = self._now + seconds
        self._move_to(target)

    def _move_to(self, target: float) -> None:
        with self._lock:
            self._now = max(self._now, target)
            due = [s for s in self._sleepers if s[0] <= self._now]
            self._sleepers = [s for s in self._sleepers if s[0] > self._now]
        for _, loop, future in due:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_wake, future)

    def deadlines(self) -> list[float]:
        """When the current sleepers wake, earliest first."""
        with self._lock:
            return sorted(s[0] for s in self._sleepers)

    def advance_to_next(self, timeout: float = 10.0) -> float:
        """Wait (real time, up to ``timeout``) for a sleeper, move time exactly to its deadline, return it."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._sleepers), timeout):
                raise TimeoutError("nothing is sleeping on the clock")
            target = min(s[0] for s in self._sleepers)
        self._move_to(target)  # exactly the deadline: no float drift from adding a difference
        return target

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if seconds <= 0:
                future.set_result(None)
            else:
                entry = (self._now + seconds, loop, future)
                self._sleepers.append(entry)
                self._changed.notify_all()
        try:
            await future
        finally:
            with self._lock:
                self._sleepers = [s for s in self._sleepers if s[2] is not future]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
