"""Fixtures for the simulator tests, and a guard that keeps every test on loopback.

The guard wraps ``socket.connect`` and ``getaddrinfo`` for the whole process
(all threads) during each test: any attempt to reach or resolve a
non-loopback address fails loudly instead of leaving the machine.
"""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def loopback_only(loopback_guard: Callable[[Callable[[object], BaseException]], None]) -> None:
    loopback_guard(lambda host: socket.gaierror(f"test guard: no name resolution for {host!r}"))


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
