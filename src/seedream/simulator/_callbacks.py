"""Callbacks: POST the finished task to ``callback_url`` with the documented schedule.

"Timeout: 10 seconds", "Maximum 3 retries on failure (retries after 1
second/2 seconds/4 seconds)", "returning 2xx status code is considered
successful" (callback_url). Times are simulated seconds, scaled by
``time_scale``. Deliveries run on one worker thread with its own event loop,
started at the first callback, so they outlive whichever loop served the
POST (an in-process test's, uvicorn's) and wait on the injected clock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ._clock import Clock
from ._config import SimulatorConfig
from ._counters import Counters
from ._policy import judge_resolved, loopback_http_url, pinned
from ._state import Task

__all__ = ["CALLBACK_RETRY_DELAYS", "CALLBACK_TIMEOUT", "CallbackAttempt", "CallbackDispatcher"]

CALLBACK_TIMEOUT = 10.0
CALLBACK_RETRY_DELAYS = (1.0, 2.0, 4.0)


@dataclass(frozen=True)
class CallbackAttempt:
    """One delivery attempt: ``at`` is the clock's monotonic time when it was made (real seconds)."""

    task_id: str
    attempt: int  # 1 = first delivery, 2..4 = retries
    at: float
    status: int | None  # HTTP status, None if no answer
    outcome: str  # delivered | rejected | error:<ExceptionName> | refused:<reason>


class CallbackDispatcher:
    def __init__(
        self,
        *,
        config: SimulatorConfig,
        clock: Clock,
        counters: Counters,
        body_for: Callable[[Task], dict[str, Any]],
    ) -> None:
        self._config = config
        self._clock = clock
        self._counters = counters
        self._body_for = body_for
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._attempts: list[CallbackAttempt] = []

    def schedule(self, task: Task) -> None:
        """Deliver ``task`` to its callback_url once it ends."""
        with self._lock:
            if self._closed or task.callback_url is None:
                return
            loop = self._ensure_worker()
            self._pending += 1
            # Under the lock: close() cannot stop the loop between the check and the hand-over.
            future = asyncio.run_coroutine_threadsafe(self._deliver(task), loop)
            self._futures.add(future)
        future.add_done_callback(self._finished)

    def attempts(self) -> list[CallbackAttempt]:
        with self._lock:
            return list(self._attempts)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no delivery is scheduled or running; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def close(self) -> None:
        """Cancel pending deliveries and stop the worker (idempotent)."""
        with self._lock:
            self._closed = True
            loop, thread, futures = self._loop, self._thread, list(self._futures)
        for future in futures:
            future.cancel()
        if loop is not None and thread is not None:
            with contextlib.suppress(RuntimeError):  # already closed
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)

    # -- worker ------------------------------------------------------------

    def _ensure_worker(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=self._run, args=(loop,), name="seedream-simulator-callbacks", daemon=True)
            self._loop, self._thread = loop, thread
            thread.start()
        return self._loop

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            if self._client is not None:
                loop.run_until_complete(self._client.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _finished(self, future: concurrent.futures.Future[None]) -> None:
        with self._idle:
            self._futures.discard(future)
            self._pending -= 1
            self._idle.notify_all()

    def _record(self, attempt: CallbackAttempt) -> None:
        with self._lock:
            self._attempts.append(attempt)

    async def _deliver(self, task: Task) -> None:
        url = task.callback_url
        assert url is not None
        await self._clock.sleep(task.ends_at - self._clock.monotonic())
        body = self._body_for(task)
        verdict = await judge_resolved(url, self._config)
        if not verdict.allowed:
            self._counters.add("callbacks.refused")
            self._record(CallbackAttempt(task.id, 0, self._clock.monotonic(), None, f"refused:{verdict.reason}"))
            return
        if verdict.kind == "loopback" and self._config.loopback_callbacks_over_http:
            url = loopback_http_url(url)
        assert verdict.address is not None
        # Every attempt goes to the address that was checked: the name is not looked up again.
        target, headers, extensions = pinned(url, verdict.address)
        headers["user-agent"] = "seedream-simulator"
        if self._client is None:
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        timeout = self._config.real_seconds(CALLBACK_TIMEOUT)
        for attempt, delay in enumerate((0.0, *CALLBACK_RETRY_DELAYS), start=1):
            if delay:
                await self._clock.sleep(self._config.real_seconds(delay))
            at = self._clock.monotonic()
            status: int | None = None
            try:
                response = await self._client.post(
                    target, json=body, timeout=timeout, headers=headers, extensions=extensions
                )
                status = response.status_code
                outcome = "delivered" if response.is_success else "rejected"
            except httpx.HTTPError as exc:
                outcome = f"error:{type(exc).__name__}"
            self._counters.add("callbacks.attempts")
            self._record(CallbackAttempt(task.id, attempt, at, status, outcome))
            if outcome == "delivered":
                self._counters.add("callbacks.delivered")
                return
        self._counters.add("callbacks.failed")
