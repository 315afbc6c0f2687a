"""DNS rebinding: a default-config simulator never connects to loopback, whatever a name resolves to next.

A scripted resolver (``socket.getaddrinfo``, which the simulator's one lookup
and httpx's own both go through) answers each rebinding name with a public
address first and 127.0.0.1 on every later lookup. The simulator must connect
to the address it checked, and judge every redirect hop the same way.

No packet leaves loopback: the public answers are fake addresses, and a
connection to one of them is routed by the test to a loopback server playing
"the internet" (every other non-loopback connection still fails the loopback
guard). A second loopback listener, the *victim*, is where a rebound name
points: it counts every connection it accepts, and must accept none.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from seedream.simulator import SimulatorApp, SimulatorConfig, create_app
from seedream.simulator._policy import judge_resolved

from .conftest import Figures
from .helpers import png_bytes

pytestmark = pytest.mark.reliability

FAKE_PUBLIC = ("8.8.8.8", "8.8.4.4", "1.1.1.1")  # never contacted: routed to the loopback "internet"
AUTH = {"authorization": "Bearer sk-test"}
MODEL = "doubao-seedream-5.0-lite"


class Victim:
    """A loopback listener that only counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self.sock.close()
        self._thread.join(timeout=5)


class Internet:
    """An HTTP server on loopback that every fake public address leads to; records (Host, path) per request."""

    def __init__(self, victim_port: int) -> None:
        seen: list[tuple[str, str]] = []
        image = png_bytes(32, 32)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                seen.append((self.headers.get("host", ""), self.path))
                name = self.path.rsplit("/", 1)[-1]
                if name.startswith("redirect-to-"):  # /redirect-to-<host>: 302 to a second rebinding name
                    self.send_response(302)
                    self.send_header("location", f"http://{name.removeprefix('redirect-to-')}:{victim_port}/b.png")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body = image if self.command == "GET" else b"ok"
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.requests = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Rebinding:
    """The scripted resolver and the router, layered over the loopback guard (which still catches the rest)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, internet_port: int) -> None:
        self.script: dict[str, list[str]] = {}
        self.lookups: Counter[str] = Counter()
        self.routed: list[tuple[str, int]] = []
        guarded_getaddrinfo = socket.getaddrinfo
        guarded_connect, guarded_connect_ex = socket.socket.connect, socket.socket.connect_ex

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else str(host)
            number = int(port or 0)
            if name in self.script:
                answers = self.script[name]
                address = answers[min(self.lookups[name], len(answers) - 1)]
                self.lookups[name] += 1
                return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, number))]
            if name in FAKE_PUBLIC:  # a literal: what getaddrinfo answers for one, without a lookup
                return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (name, number))]
            return guarded_getaddrinfo(host, port, *args, **kwargs)

        def route(address: Any) -> Any:
            if isinstance(address, tuple) and address[0] in FAKE_PUBLIC:
                self.routed.append((address[0], address[1]))
                return ("127.0.0.1", internet_port)
            return address

        def connect(sock: socket.socket, address: Any) -> None:
            guarded_connect(sock, route(address))

        def connect_ex(sock: socket.socket, address: Any) -> int:
            return guarded_connect_ex(sock, route(address))

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)

    def rebinds(self, name: str, public: str) -> str:
        """``name`` answers ``public`` on its first lookup and 127.0.0.1 on every later one."""
        self.script[name] = [public, "127.0.0.1"]
        return name


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Victim, Internet, Rebinding]]:
    victim = Victim()
    internet = Internet(victim.port)
    rebinding = Rebinding(monkeypatch, internet.port)
    try:
        yield victim, internet, rebinding
    finally:
        internet.close()
        victim.close()


def _default_config() -> SimulatorConfig:
    # Policy fields at their defaults (outbound="public", allow_loopback=False); only time and keys changed.
    # time_scale 0.05: a reference download may take 0.5 s (10 simulated), ample for a loaded machine.
    return SimulatorConfig(api_keys=("sk-test",), time_scale=0.05, seed=3)


def _create(app: SimulatorApp, body: dict[str, Any]) -> dict[str, Any]:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9") as client:
            payload = {"model": MODEL, "prompt": "x"} | body
            return await client.post("/v1/images/generations", json=payload, headers=AUTH)

    response = asyncio.run(post())
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def _task_error(app: SimulatorApp, task_id: str) -> str | None:
    task = app.simulator.get_task(task_id)
    assert task is not None
    return f"{task.failure[0]}: {task.failure[1]}" if task.failure else None


def test_rebinding_names_never_reach_loopback_from_a_default_config_simulator(
    world: tuple[Victim, Internet, Rebinding], figures: Figures, thorough: bool
) -> None:
    victim, internet, rebinding = world
    rounds = 40 if thorough else 10
    references = redirects = callbacks = 0
    failures: list[str | None] = []
    with create_app(_default_config()) as app:
        for i in range(rounds):
            direct = rebinding.rebinds(f"ref-{i}.rebind.test", FAKE_PUBLIC[0])
            first = rebinding.rebinds(f"hop-{i}.rebind.test", FAKE_PUBLIC[1])
            second = rebinding.rebinds(f"next-{i}.rebind.test", FAKE_PUBLIC[2])
            hook = rebinding.rebinds(f"hook-{i}.rebind.test", FAKE_PUBLIC[0])
            port = victim.port
            task = _create(
                app,
                {
                    "image_urls": [f"http://{direct}:{port}/a.png", f"http://{first}:{port}/redirect-to-{second}"],
                    "callback_url": f"https://{hook}:{port}/hook",
                },
            )
            failures.append(_task_error(app, task["id"]))
            references += 1
            redirects += 1
            callbacks += 1
        assert app.wait_callbacks(timeout=60)
        attempts = app.callback_attempts()
        counters = app.counters()

    # Every name was looked up exactly once: its public answer, never the rebound one.
    assert set(rebinding.lookups.values()) == {1}, rebinding.lookups
    assert victim.accepted == 0
    # Both references were fetched from the checked (public) addresses, so no task failed.
    assert failures == [None] * rounds
    # The internet saw each reference request with the name as Host, the redirect's second hop included.
    hosts = Counter(host.split(".", 1)[0].split("-")[0] for host, _ in internet.requests)
    assert hosts["ref"] == rounds and hosts["hop"] == rounds and hosts["next"] == rounds
    assert all(port == victim.port for _, port in rebinding.routed)
    # Callbacks went to the checked address too (https to a plain-HTTP stand-in: they fail, but not to loopback).
    assert len(attempts) == 4 * rounds and all(a.attempt >= 1 for a in attempts)
    assert counters["references"]["fetched"] == 2 * rounds
    figures.update(
        rebinding_names=len(rebinding.lookups),
        reference_fetches=references,
        redirect_chains=redirects,
        callback_deliveries=callbacks,
        callback_attempts=len(attempts),
        connections_to_public_stand_in=len(rebinding.routed),
        loopback_connections=victim.accepted,
    )


def test_a_redirect_to_a_name_that_resolves_to_loopback_fails_the_task_without_connecting(
    world: tuple[Victim, Internet, Rebinding],
) -> None:
    victim, internet, rebinding = world
    first = rebinding.rebinds("hop.rebind.test", FAKE_PUBLIC[1])
    rebinding.script["inside.rebind.test"] = ["127.0.0.1"]
    with create_app(_default_config()) as app:
        task = _create(app, {"image_urls": [f"http://{first}:{victim.port}/redirect-to-inside.rebind.test"]})
        assert (_task_error(app, task["id"]) or "").startswith("image_processing_error")
    assert victim.accepted == 0
    assert len(internet.requests) == 1


def test_a_name_resolving_to_a_public_and_a_loopback_address_at_once_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))
            for address in ("8.8.8.8", "127.0.0.1")
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    verdict = asyncio.run(judge_resolved("https://mixed.rebind.test/hook", _default_config()))
    assert not verdict.allowed and verdict.address is None and "loopback" in verdict.reason
