"""What the async side does where the sync side cannot do the same: written by hand, twinned by ``_sync/_primitives``.

Everything else in ``_async/`` is turned into ``_sync/`` by ``scripts/unasync.py``; these names are the seam.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .._ledger import Ledger

__all__ = ["Call", "Cancelled", "Gate", "Signal", "Sleep", "default_sleep", "each", "ledger_write"]

T = TypeVar("T")

#: A call the runners make: a coroutine function here, a plain function on the sync side.
Call = Callable[[], Awaitable[T]]
Sleep = Callable[[float], Awaitable[None]]
default_sleep: Sleep = asyncio.sleep
#: Raised into a task cancelled from outside (the sync side has no such thing).
Cancelled = asyncio.CancelledError
#: Set once by one side, waited for by others (``set()``, ``await wait()``).
Signal = asyncio.Event


async def each(calls: Sequence[Call[T]]) -> list[T]:
    """Run ``calls`` concurrently (the sync side: one after the other); their results in order."""
    return list(await asyncio.gather(*(call() for call in calls)))


async def ledger_write(ledger: Ledger, write: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Hand a ledger write to its writer thread: no fsync on the event loop, concurrent writes share a commit."""
    return await ledger.awrite(write, *args, **kwargs)


class Gate:
    """At most ``limit`` calls in flight at once (None: no limit); the rest wait their turn."""

    def __init__(self, limit: int | None) -> None:
        self._semaphore = None if limit is None else asyncio.Semaphore(limit)

    async def run(self, call: Call[T]) -> T:
        if self._semaphore is None:
            return await call()
        async with self._semaphore:
            return await call()
