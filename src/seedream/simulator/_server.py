"""Running the simulator over real HTTP with uvicorn: in a thread for tests, or in the foreground.

The socket is bound before uvicorn starts, so ``port=0`` works and the URL
is known at once; ``run_simulator`` returns only when the server accepts
requests, and stops it (and the callback worker) on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._app import SimulatorApp, create_app
from ._callbacks import CallbackAttempt
from ._clock import Clock
from ._config import SimulatorConfig

__all__ = [
    "HEAD_TIMEOUT",
    "KEEP_ALIVE_TIMEOUT",
    "RunningSimulator",
    "base_url_for",
    "bind_socket",
    "run_simulator",
    "serve_forever",
]

_STARTUP_TIMEOUT = 30.0
# Real seconds. A request head (request line + headers) must arrive within HEAD_TIMEOUT of the connection
# opening or of the previous response; an idle keep-alive connection closes after KEEP_ALIVE_TIMEOUT.
HEAD_TIMEOUT = 10.0
KEEP_ALIVE_TIMEOUT = 5
MAX_HEAD_BYTES = 16 * 1024  # h11's limit on an incomplete event (the head), stated rather than inherited
_BACKLOG = 1024
_TIMEOUT_BODY = json.dumps(
    {
        "error": {
            "code": "request_timeout",
            "message": "request head not received in time",
            "type": "invalid_request_error",
        }
    }
).encode()
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


class _HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head.

    uvicorn bounds an *idle* keep-alive connection (``timeout_keep_alive``),
    but any byte received cancels that timer, and a fresh connection has none:
    a client sending a header line now and then (slowloris) holds its
    connection, and its slot, for as long as it likes. Here a timer runs
    whenever the connection waits for a request head (h11's ``their_state``
    is IDLE: from connection start, and again after each response); the head
    completing stops it. On expiry a partial head gets a 408, an idle
    connection is just closed. Once a request is under way, the head timer
    plays no part (the app's own answer time is not bounded here).
    """

    head_timeout = HEAD_TIMEOUT

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a head arrived (or the connection is done for)
            self._disarm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a head came: say why the connection ends
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def _protocol(head_timeout: float) -> type[H11Protocol]:
    return type("HeadTimeoutProtocol", (_HeadTimeoutProtocol,), {"head_timeout": head_timeout})


@dataclass
class RunningSimulator:
    """A simulator serving on loopback: ``base_url`` (no trailing slash), the app, and its helpers."""

    base_url: str
    app: SimulatorApp
    host: str
    port: int

    def url(self, path: str) -> str:
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def counters(self) -> dict[str, Any]:
        return self.app.counters()

    def callback_attempts(self) -> list[CallbackAttempt]:
        return self.app.callback_attempts()

    def wait_callbacks(self, timeout: float | None = None) -> bool:
        return self.app.wait_callbacks(timeout)


class _Server(uvicorn.Server):
    """uvicorn that reports when it is ready (after startup, sockets listening)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only then, and without it
    # Nagle's algorithm meets delayed ACKs and every response waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)  # many connections at once (a test's, an attacker's) are accepted, not dropped
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def base_url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _uvicorn_config(
    app: SimulatorApp, *, log_level: str, access_log: bool, head_timeout: float = HEAD_TIMEOUT
) -> uvicorn.Config:
    # No limit_concurrency: its overflow answer is a 503, and the simulator answers 5xx only to injected faults.
    return uvicorn.Config(
        app,
        http=_protocol(head_timeout),
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        loop="asyncio",
        ws="none",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )


@contextlib.contextmanager
def run_simulator(
    config: SimulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    app: SimulatorApp | None = None,
    log_level: str = "warning",
    head_timeout: float = HEAD_TIMEOUT,
) -> Iterator[RunningSimulator]:
    """Serve a simulator with uvicorn in a background thread; stop it on exit.

    Pass ``app`` to serve an existing :class:`SimulatorApp` (then ``config`` and
    ``clock`` are ignored, and the app is left open); otherwise one is created
    from ``config`` and closed afterwards. ``head_timeout``: real seconds a
    request head may take (tests shorten it).
    """
    owned = app is None
    served = app if app is not None else create_app(config, clock=clock)
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    started = threading.Event()
    config_ = _uvicorn_config(served, log_level=log_level, access_log=False, head_timeout=head_timeout)
    server = _Server(config_, started.set)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # report it to the caller instead of dying silently
            failure.append(exc)
        finally:
            started.set()

    thread = threading.Thread(target=run, name=f"seedream-simulator-{actual_port}", daemon=True)
    thread.start()
    try:
        if not started.wait(_STARTUP_TIMEOUT) or failure or not server.started:
            raise RuntimeError(
                f"simulator did not start on {host}:{actual_port}: {failure[0] if failure else 'timeout'}"
            )
        yield RunningSimulator(base_url_for(host, actual_port), served, host, actual_port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        if owned:
            served.close()


def serve_forever(
    app: SimulatorApp,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    out: TextIO | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, then stop cleanly (returns normally)."""
    out = out if out is not None else sys.stdout
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    url = base_url_for(host, actual_port)

    keys = len(app.config.api_keys)
    accepting = f"{keys} API key{'s' if keys != 1 else ''}" if keys else "any API key"

    def announce() -> None:
        print(f"Seedream simulator listening on {url} ({accepting}; Ctrl-C to stop)", file=out, flush=True)

    if not _is_loopback(host):
        print(
            f"warning: {host} is not a loopback address; anyone who can reach it can use the simulator", file=sys.stderr
        )
    server = _Server(_uvicorn_config(app, log_level=log_level, access_log=log_level == "debug"), announce)
    # uvicorn re-raises the signal that stopped it once it has shut down; make SIGTERM end up as
    # KeyboardInterrupt too, so both stop the same clean way instead of killing the process.
    previous = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    if previous is not None:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sock.close()
        app.close()
    print("Seedream simulator stopped", file=out, flush=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
