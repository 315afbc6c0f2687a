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
import ssl
import time
import typing
from collections.abc import Iterable, Mapping

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


def _left(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    deadline = _CURRENT.get()
    if deadline is None:
        return timeout
    if deadline.expired():
        raise timeout_error(f"{deadline.describe()} passed")
    return deadline.clamp(timeout)


# -- socket operations bounded by the current deadline (httpcore's network backend API) ------------------------------


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def bound_sockets(client: httpx.Client | httpx.AsyncClient) -> None:
    """Bound every socket operation of ``client`` (one we built) by the current :class:`Deadline`.

    httpx does not expose httpcore's ``network_backend`` argument, so the backend of each of the client's
    HTTP transports (the default one and proxy mounts) is wrapped in place; a transport without an httpcore
    pool (``MockTransport``, a caller's own) is left as it is. Covered by ``tests/reliability/test_hostile_peers.py``
    against servers that drip headers and bodies.
    """
    transports: list[object] = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, (_Backend, _AsyncBackend)):
            continue
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
        elif isinstance(backend, httpcore.AsyncNetworkBackend):
            pool._network_backend = _AsyncBackend(backend)  # type: ignore[union-attr]
