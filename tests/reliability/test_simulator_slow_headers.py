"""Slow-header connections (slowloris) against the simulator under uvicorn: each one closed within its bound.

200 connections (1,000 with ``--thorough``) on 127.0.0.1 each send part of a
request head and then one more header byte every half second, which keeps
uvicorn's own keep-alive timer from ever firing. The simulator's head
timeout (shortened here to ``HEAD``) must close every one of them within
``HEAD`` + ``SLACK`` seconds, answering 408 where part of a head came,
while a request that is slow to *answer* (an added latency longer than the
head timeout) is not cut, and the server keeps answering meanwhile.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time

import httpx
import pytest

from seedream.simulator import SimulatorConfig, run_simulator

from .conftest import Figures

pytestmark = pytest.mark.reliability

HEAD = 2.0  # real seconds the server gives a request head (the default is 10)
SLACK = 5.0  # the bound: closed within HEAD + SLACK (timer granularity, a loaded two-core machine)
DRIP = 0.5  # seconds between the bytes each slow client sends
PARTIAL = b"POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test\r\nX-Slow: "


def _open(port: int, count: int, opened: list[float] | None = None) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if opened is not None:
            opened.append(time.monotonic())
        sock.setblocking(False)
        socks.append(sock)
    return socks


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (head + content-length body) from a blocking socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _hold(
    socks: list[socket.socket], first: bytes, *, until: float, silent: int = 0
) -> tuple[dict[int, float], dict[int, bytes]]:
    """Send ``first``, then drip a header byte to every open socket but the last ``silent`` ones (they send
    nothing); when (monotonic) each was closed and what it was told."""
    talking = len(socks) - silent
    started = time.monotonic()
    selector = selectors.DefaultSelector()
    closed_at: dict[int, float] = {}
    told: dict[int, bytes] = {}
    for index, sock in enumerate(socks):
        if index < talking:
            sock.send(first)
        selector.register(sock, selectors.EVENT_READ, index)
    next_drip = started + DRIP
    while len(closed_at) < len(socks) and time.monotonic() < until:
        for key, _ in selector.select(timeout=max(0.0, min(next_drip, until) - time.monotonic())):
            index = key.data
            try:
                data = socks[index].recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            if data:
                told[index] = told.get(index, b"") + data
                continue
            closed_at[index] = time.monotonic()
            selector.unregister(socks[index])
        if time.monotonic() >= next_drip:
            next_drip += DRIP
            for index, sock in enumerate(socks[:talking]):
                if index not in closed_at:
                    with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                        sock.send(b"a")  # one more byte of the never-ending header value
    selector.close()
    return closed_at, told


def test_slow_header_connections_are_closed_within_the_head_timeout(figures: Figures, thorough: bool) -> None:
    count = 1_000 if thorough else 200
    with run_simulator(SimulatorConfig.for_tests(), head_timeout=HEAD) as server:
        opened: list[float] = []
        slow = _open(server.port, count, opened)
        idle = _open(server.port, 20, opened)  # connected, never a byte: closed too, silently
        try:
            # While they hang on, the server still answers.
            with httpx.Client(base_url=server.base_url, trust_env=False) as client:
                answer = client.get("/v1/tasks/task-unified-0-none", headers={"authorization": "Bearer sk-test"})
                assert answer.status_code == 404
            closed_at, told = _hold(slow + idle, PARTIAL, until=time.monotonic() + HEAD + SLACK + 5, silent=len(idle))
        finally:
            for sock in slow + idle:
                sock.close()
    still_open = len(slow) + len(idle) - len(closed_at)
    assert still_open == 0
    times = sorted(closed - opened[index] for index, closed in closed_at.items())  # each from its own start
    assert times[-1] <= HEAD + SLACK
    assert times[0] >= HEAD * 0.9  # the deadline, not an early cut
    answered_408 = sum(1 for i in range(count) if told.get(i, b"").startswith(b"HTTP/1.1 408 "))
    assert answered_408 == count
    assert all(not told.get(count + i) for i in range(len(idle)))
    figures.update(
        slow_connections=count,
        idle_connections=len(idle),
        still_open=still_open,
        answered_408=answered_408,
        closed_after_s_min=round(times[0], 2),
        closed_after_s_max=round(times[-1], 2),
        bound_s=HEAD + SLACK,
    )


def test_a_partial_second_head_on_a_keep_alive_connection_is_closed_too() -> None:
    # uvicorn's keep-alive timer is cancelled by the first byte of the next request: only the head timer is left.
    request = b"GET /v1/tasks/task-unified-0-none HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test\r\n\r\n"
    with run_simulator(SimulatorConfig.for_tests(), head_timeout=HEAD) as server:
        (sock,) = _open(server.port, 1)
        try:
            sock.setblocking(True)
            sock.sendall(request)
            assert _read_response(sock).startswith(b"HTTP/1.1 404 ")
            answered = time.monotonic()
            sock.setblocking(False)
            closed_at, told = _hold(
                [sock],
                b"GET /v1/tasks/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
                until=time.monotonic() + HEAD + SLACK + 5,
            )
        finally:
            sock.close()
    assert 0 in closed_at and closed_at[0] - answered <= HEAD + SLACK
    assert told[0].startswith(b"HTTP/1.1 408 ")


def test_a_request_slower_to_answer_than_the_head_timeout_is_not_cut() -> None:
    # 3 simulated s of added latency at time_scale 1: the answer takes longer than HEAD, the head took no time.
    config = SimulatorConfig.for_tests(time_scale=1.0, fault_latency=HEAD + 1.0, fault_latency_rate=1.0)
    with (
        run_simulator(config, head_timeout=HEAD) as server,
        httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as client,
    ):
        answer = client.get("/v1/tasks/task-unified-0-none", headers={"authorization": "Bearer sk-test"})
        again = client.get(
            "/v1/tasks/task-unified-0-none", headers={"authorization": "Bearer sk-test"}
        )  # same connection
    assert answer.status_code == again.status_code == 404
    assert server.counters()["faults"]["latency"] == 2
