"""One deadline per call, held whatever the server does: the one mechanism behind every ``timeout``.

httpx's timeouts bound each socket operation, not a call: a server sending
one byte per second never trips a 3-s read timeout and keeps a call alive for
as long as it likes. A :class:`Deadline` is a point on the monotonic clock
that bounds the *whole* call (connect, send, headers, body, redirects,
retries), enforced at three places:

1. every socket operation: on the httpx clients we build, :func:`bound_sockets`
   wraps httpcore's network backend so each
   read, write, connect and TLS handshake gets ``min(its timeout, time
   left)``, and fails at once when no time is left; the current deadline
   travels in a :class:`contextvars.ContextVar` (per thread, per asyncio
   task), so connections reused from the pool obey the call that uses them;
2. the request's own timeouts (``request.extensions["timeout"]``) are
   clamped to the time left, so a caller's httpx client without our
   transport still has every read bounded by it;
3. between body chunks the deadline is checked (:meth:`Deadline.check`).

A download adds a floor on throughput (:class:`ThroughputDeadline`): after a
grace period, each byte received buys ``1 / min_bytes_per_second`` seconds,
so a trickling storage host fails as surely as a stalled one.

When the deadline passes, httpx raises a timeout (``ReadTimeout`` after the
request left, ``ConnectTimeout``/``PoolTimeout`` before); the clients turn it
into :class:`APITimeoutError` naming the deadline.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Mapping

import httpcore
import httpx

__all__ = ["Deadline", "ThroughputDeadline", "bound_sockets", "current_deadline"]

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("seedream_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the call running in this thread or task, if any."""
    return _CURRENT.get()


class Deadline:
    """``seconds`` from now on the monotonic clock; ``what`` names it in errors ("timeout=3")."""

    __slots__ = ("at", "seconds", "what")

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        return f"the deadline of {self.seconds:g} s ({self.what})"

    def clamp(self, timeout: float | None) -> float:
        """``timeout`` cut to the time left (never below a millisecond: 0 would make a socket non-blocking)."""
        left = max(self.remaining(), 0.001)
        return left if timeout is None else min(timeout, left)

    def timeouts(self, base: Mapping[str, float | None]) -> dict[str, float]:
        """httpx's per-phase timeouts (``connect``/``read``/``write``/``pool``) none longer than the deadline.

        For a request built as the deadline starts: each read of a client without our socket wrapper is then
        bounded by the whole call's bound at least (the wrapper cuts each to the time left).
        """
        return {phase: self.seconds if value is None else min(value, self.seconds) for phase, value in base.items()}

    def check(self, request: httpx.Request | None = None) -> None:
        """Raise ``httpx.ReadTimeout`` when the deadline has passed (between body chunks, say)."""
        if self.expired():
            raise httpx.ReadTimeout(f"{self.describe()} passed", request=request)

    def enter(self) -> contextvars.Token[Deadline | None]:
        """Make this the current deadline (for the socket wrappers); undo with :meth:`leave`."""
        return _CURRENT.set(self)

    @staticmethod
    def leave(token: contextvars.Token[Deadline | None]) -> None:
        _CURRENT.reset(token)


class ThroughputDeadline(Deadline):
    """A total deadline that also ends early when fewer than ``min_bytes_per_second`` arrive (after ``grace``).

    The effective deadline is ``min(start + seconds, start + grace + received / min_bytes_per_second)``: each
    byte received (:meth:`received`) pushes the floor on; silence or a trickle lets it catch up.
    """

    __slots__ = ("_floor", "min_bytes_per_second")

    def __init__(self, seconds: float, what: str, *, min_bytes_per_second: float, grace: float) -> None:
        super().__init__(seconds, what)
        self.min_bytes_per_second = min_bytes_per_second
        self._floor = self.at - seconds + grace

    def received(self, count: int) -> None:
        if self.min_bytes_per_second > 0:
            self._floor += count / self.min_bytes_per_second

    def remaining(self) -> float:
        now = time.monotonic()
        if self.min_bytes_per_second <= 0:
            return self.at - now
        return min(self.at, self._floor) - now

    def describe(self) -> str:
        if self.min_bytes_per_second > 0 and self._floor < self.at:
            return (
                f"the download's floor of {self.min_bytes_per_second:,.0f} bytes/s or its deadline of "
                f"{self.seconds:g} s ({self.what})"
            )
        return super().describe()


def bound_sockets(client: httpx.Client | httpx.AsyncClient) -> None:
    """Bound every socket operation of ``client`` (one we built) by the current :class:`Deadline`.

    httpx does not expose httpcore's ``network_backend`` argument, so the backend of each of the client's
    HTTP transports (the default one and proxy mounts) is wrapped in place; a transport without an httpcore
    pool (``MockTransport``, a caller's own) is left as it is. Covered by ``tests/reliability/test_hostile_peers.py``
    against servers that drip headers and bodies.
    """
    from ._async._sockets import AsyncBoundBackend  # imported here: they build on this module
    from ._sync._sockets import BoundBackend

    transports: list[object] = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, (BoundBackend, AsyncBoundBackend)):
            continue
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = BoundBackend(backend)  # type: ignore[union-attr]
        elif isinstance(backend, httpcore.AsyncNetworkBackend):
            pool._network_backend = AsyncBoundBackend(backend)  # type: ignore[union-attr]
