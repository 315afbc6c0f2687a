"""Transport failures become APIConnectionError / APITimeoutError; ``request_sent`` is False only when provable.

Scripted httpx exceptions cover every class; a few real sockets on 127.0.0.1
show the mapping holds for what httpx really raises (refused connection,
a server that never answers, one that hangs up after reading the request).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from seedream import APIConnectionError, APITimeoutError, AsyncSeedreamAPI, SeedreamAPI

from .helpers import SENTINEL_KEY, Recorder

REQ = httpx.Request("POST", "https://api.evolink.ai/v1/images/generations")

# (httpx exception, expected class, request_sent)
SCRIPTED: list[tuple[Exception, type[APIConnectionError], bool]] = [
    (httpx.ConnectError("refused"), APIConnectionError, False),
    (httpx.ConnectTimeout("connect timed out"), APITimeoutError, False),
    (httpx.PoolTimeout("no connection free"), APITimeoutError, False),
    (httpx.UnsupportedProtocol("no such scheme"), APIConnectionError, False),
    (httpx.ReadTimeout("read timed out"), APITimeoutError, True),
    (httpx.WriteTimeout("write timed out"), APITimeoutError, True),
    (httpx.ReadError("connection reset"), APIConnectionError, True),
    (httpx.WriteError("broken pipe"), APIConnectionError, True),
    (httpx.RemoteProtocolError("server disconnected"), APIConnectionError, True),
    (httpx.LocalProtocolError("bad header"), APIConnectionError, True),
    (httpx.ProxyError("proxy refused"), APIConnectionError, True),
    (httpx.DecodingError("bad gzip"), APIConnectionError, True),
    (httpx.TooManyRedirects("loop"), APIConnectionError, True),
]


@pytest.mark.parametrize(("raised", "expected", "sent"), SCRIPTED, ids=[type(s[0]).__name__ for s in SCRIPTED])
@pytest.mark.parametrize("operation", ["create", "get"])
def test_each_httpx_failure_maps_to_a_connection_error_saying_whether_it_was_sent(
    raised: Exception, expected: type[APIConnectionError], sent: bool, operation: str
) -> None:
    recorder = Recorder(raised)
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api, pytest.raises(APIConnectionError) as caught:
        if operation == "create":
            api.create_generation("a lake")
        else:
            api.get_task("task-unified-1")
    error = caught.value
    assert type(error) is expected
    assert error.request_sent is sent
    assert error.__cause__ is raised
    assert error.request is not None and error.request.method == ("POST" if operation == "create" else "GET")
    assert str(raised) in str(error)


def test_the_async_twin_maps_transport_failures_the_same_way() -> None:
    async def run() -> list[tuple[type[Exception], bool]]:
        out: list[tuple[type[Exception], bool]] = []
        for raised, _, _ in SCRIPTED:
            recorder = Recorder(raised)
            async with AsyncSeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api:
                try:
                    await api.create_generation("a lake")
                except APIConnectionError as exc:
                    out.append((type(exc), exc.request_sent))
        return out

    assert asyncio.run(run()) == [(expected, sent) for _, expected, sent in SCRIPTED]


def test_no_transport_failure_escapes_as_an_httpx_exception() -> None:
    for raised, _, _ in SCRIPTED:
        with SeedreamAPI(SENTINEL_KEY, transport=Recorder(raised).transport) as api:
            try:
                api.create_generation("a lake")
            except httpx.HTTPError:  # pragma: no cover - the failure this test exists for
                pytest.fail(f"{type(raised).__name__} escaped")
            except APIConnectionError:
                pass


# -- real sockets, loopback only ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """Accepts connections and reads, then either never answers or hangs up (event set)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)
    stop, hang_up = threading.Event(), threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conns.append(conn)
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            if hang_up.is_set():
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", hang_up
    stop.set()
    thread.join(2)
    for conn in conns:
        conn.close()
    server.close()


def test_a_refused_connection_is_provably_not_sent() -> None:
    with (
        SeedreamAPI(SENTINEL_KEY, base_url=f"http://127.0.0.1:{_free_port()}") as api,
        pytest.raises(APIConnectionError) as caught,
    ):
        api.create_generation("a lake")
    assert type(caught.value) is APIConnectionError and caught.value.request_sent is False


def test_a_server_that_never_answers_is_a_timeout_that_may_have_been_sent(
    silent_server: tuple[str, threading.Event],
) -> None:
    base_url, _ = silent_server
    with SeedreamAPI(SENTINEL_KEY, base_url=base_url, timeout=0.3) as api, pytest.raises(APITimeoutError) as caught:
        api.create_generation("a lake")
    assert caught.value.request_sent is True
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_a_server_hanging_up_after_the_request_may_have_acted_on_it(
    silent_server: tuple[str, threading.Event],
) -> None:
    base_url, hang_up = silent_server
    hang_up.set()
    with SeedreamAPI(SENTINEL_KEY, base_url=base_url, timeout=2) as api, pytest.raises(APIConnectionError) as caught:
        api.get_task("task-unified-1")
    assert type(caught.value) is APIConnectionError and caught.value.request_sent is True


def test_a_per_call_timeout_overrides_the_clients_for_that_call_only(
    silent_server: tuple[str, threading.Event],
) -> None:
    base_url, _ = silent_server
    with SeedreamAPI(SENTINEL_KEY, base_url=base_url, timeout=60) as api, pytest.raises(APITimeoutError):
        api.get_task("task-unified-1", timeout=0.2)
