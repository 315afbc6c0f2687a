"""Fixtures for the simulator tests, and a guard that keeps every test on loopback.

The guard wraps ``socket.connect`` and ``getaddrinfo`` for the whole process
(all threads) during each test: any attempt to reach or resolve a
non-loopback address fails loudly instead of leaving the machine.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from seedream.simulator import ManualClock, SimulatorApp, SimulatorConfig, create_app

from .helpers import AUTH, Received, Receiver

# -- loopback guard ---------------------------------------------------------------


def _is_loopback(host: object) -> bool:
    if host in (None, "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(address, tuple) and not _is_loopback(host):
            raise AssertionError(f"test tried to connect to non-loopback address {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise socket.gaierror(f"test guard: no name resolution for {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# -- simulator fixtures --------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_app(clock: ManualClock) -> Iterator[Callable[..., SimulatorApp]]:
    """``make_app(**config)``: a test-config simulator on the manual clock (time_scale 1: advance in seconds)."""
    apps: list[SimulatorApp] = []

    def make(*, use_clock: bool = True, **overrides: Any) -> SimulatorApp:
        settings: dict[str, Any] = {"time_scale": 1.0} | overrides
        app = create_app(SimulatorConfig.for_tests(**settings), clock=clock if use_clock else None)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[SimulatorApp], httpx.AsyncClient]]:
    """``client_for(app)``: an httpx client speaking to ``app`` in-process, authenticated as sk-test."""
    clients: list[httpx.AsyncClient] = []

    def make(app: SimulatorApp, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("headers", AUTH)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test", **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# -- a loopback HTTP receiver (callbacks, reference images) -----------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("content-length") or 0))
            with state.changed:
                state.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, data, time.monotonic())
                )
                step = state.script.popleft() if state.script else state.default
                state.changed.notify_all()
            if step == "hang":
                time.sleep(state.hang_seconds)
                step = 200
            self._answer(int(step), b"{}", "application/json")

        def do_GET(self) -> None:
            with state.changed:
                headers = {k.lower(): v for k, v in self.headers.items()}
                state.received.append(Received(self.path, headers, b"", time.monotonic()))
                state.changed.notify_all()
            found = state.files.get(self.path)
            if found is None:
                self._answer(404, b"not found", "text/plain")
            else:
                self._answer(200, *found)

        def _answer(self, status: int, payload: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the simulator gave up waiting (timeout test)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        block_on_close = False

    server = Server(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
