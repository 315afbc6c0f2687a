"""The API key: where it comes from, that it is on every request whatever httpx client is used, and nowhere else.

A sentinel key is searched for in repr, str, exception text and DEBUG logs
(ours, httpx's and httpcore's, over a real loopback connection so httpcore
really logs).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import respx

import seedream
from seedream import (
    APIConnectionError,
    APIStatusError,
    AsyncSeedreamAPI,
    ConfigurationError,
    RequestValidationError,
    SeedreamAPI,
    UnexpectedResponseError,
)

from .helpers import BASE_URL, CREATED_BODY, SENTINEL_KEY, TASK_BODY, Recorder

BEARER = f"Bearer {SENTINEL_KEY}"


# -- where the key comes from -----------------------------------------------------------------------


def test_the_key_comes_from_the_argument_first(monkeypatch: pytest.MonkeyPatch, recorder: Recorder) -> None:
    monkeypatch.setenv("EVOLINK_API_KEY", "sk-from-env")
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api:
        api.create_generation("a lake")
    assert recorder.requests[0].headers["authorization"] == BEARER


def test_the_key_comes_from_evolink_api_key_otherwise(monkeypatch: pytest.MonkeyPatch, recorder: Recorder) -> None:
    monkeypatch.setenv("EVOLINK_API_KEY", SENTINEL_KEY)
    with SeedreamAPI(transport=recorder.transport) as api:
        api.get_task("task-unified-1")
    assert recorder.requests[0].headers["authorization"] == BEARER


@pytest.mark.parametrize("api_class", [SeedreamAPI, AsyncSeedreamAPI])
def test_no_key_anywhere_is_a_clear_configuration_error(api_class: Any) -> None:
    with pytest.raises(ConfigurationError, match="EVOLINK_API_KEY"):
        api_class()
    with pytest.raises(ConfigurationError, match="EVOLINK_API_KEY"):
        api_class("")


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        (f"Bearer {SENTINEL_KEY}", "Bearer"),
        (f"{SENTINEL_KEY}\n", "line breaks"),
        (f"{SENTINEL_KEY} x", "spaces"),
        (f"{SENTINEL_KEY}é", "ASCII"),
    ],
)
def test_a_malformed_key_is_refused_without_showing_it(key: str, hint: str) -> None:
    with pytest.raises(ConfigurationError, match=hint) as caught:
        SeedreamAPI(key)
    assert SENTINEL_KEY not in str(caught.value) and SENTINEL_KEY not in repr(caught.value)


# -- on every request, whatever client ---------------------------------------------------------------


def test_every_request_carries_bearer_auth_and_our_user_agent(api: SeedreamAPI, recorder: Recorder) -> None:
    api.create_generation("a lake")
    api.get_task("task-unified-1")
    for request in recorder.requests:
        assert request.headers["authorization"] == BEARER
        assert request.headers["user-agent"].startswith(f"seedream/{seedream.__version__} ")
        assert request.headers["accept"] == "application/json"
    assert recorder.requests[0].headers["content-type"] == "application/json"
    assert "content-type" not in recorder.requests[1].headers


def test_a_caller_supplied_httpx_client_gets_the_key_on_every_request_and_keeps_its_own_headers() -> None:
    recorder = Recorder()
    own = httpx.Client(
        transport=recorder.transport,
        base_url="https://somewhere-else.example",
        headers={"X-Trace": "t-1", "Authorization": "Bearer someone-elses"},
        timeout=None,
    )
    with own:
        api = SeedreamAPI(SENTINEL_KEY, http_client=own)
        api.create_generation("a lake")
        api.get_task("task-unified-1")
        api.close()  # not ours to close
        assert not own.is_closed
        api.get_task("task-unified-1")
    assert recorder.count == 3
    for request in recorder.requests:
        assert request.headers["authorization"] == BEARER
        assert request.headers["x-trace"] == "t-1"
        assert request.url.host == "api.evolink.ai"
    # the caller's client was not changed: the key lives only in each request
    assert own.headers["authorization"] == "Bearer someone-elses"


def test_a_caller_client_with_cookies_params_or_its_own_auth_still_sends_our_key() -> None:
    recorder = Recorder()
    with httpx.Client(
        transport=recorder.transport, cookies={"session": "s1"}, params={"trace": "1"}, auth=("user", "pass")
    ) as own:
        api = SeedreamAPI(SENTINEL_KEY, http_client=own)
        api.create_generation("a lake")
        own.cookies.clear()
        own.params = httpx.QueryParams()
        own.headers["X-Later"] = "added after the API client was made"
        api.get_task("task-unified-1")
    first, second = recorder.requests
    assert first.headers["cookie"] == "session=s1" and first.url.params["trace"] == "1"
    assert json.loads(first.content)["prompt"] == "a lake"
    assert second.headers["x-later"] == "added after the API client was made"
    for request in recorder.requests:
        assert request.headers["authorization"] == BEARER


def test_an_async_caller_supplied_client_gets_the_key_too() -> None:
    recorder = Recorder()

    async def run() -> None:
        async with httpx.AsyncClient(transport=recorder.transport) as own:
            api = AsyncSeedreamAPI(SENTINEL_KEY, http_client=own)
            await api.create_generation("a lake")
            await api.get_task("task-unified-1")
            await api.close()
            assert not own.is_closed

    asyncio.run(run())
    assert [r.headers["authorization"] for r in recorder.requests] == [BEARER, BEARER]


def test_respx_on_the_default_transport_sees_the_key() -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as router:
        create = router.post("/v1/images/generations").respond(200, json=CREATED_BODY)
        task = router.get("/v1/tasks/task-unified-1").respond(200, json=TASK_BODY)
        with SeedreamAPI(SENTINEL_KEY) as api:
            api.create_generation("a lake")
            api.get_task("task-unified-1")
    assert create.calls.last.request.headers["authorization"] == BEARER
    assert task.calls.last.request.headers["authorization"] == BEARER


def test_our_own_httpx_client_never_stores_the_key_so_it_can_fetch_other_hosts(api: SeedreamAPI) -> None:
    assert "authorization" not in api.http_client.headers
    assert api.http_client.headers["user-agent"].startswith("seedream/")


@pytest.mark.parametrize("bad", ["not a client", httpx.AsyncClient])
def test_a_wrong_http_client_type_is_a_configuration_error(bad: Any) -> None:
    client = bad() if isinstance(bad, type) else bad
    try:
        with pytest.raises(ConfigurationError, match=r"httpx\.Client"):
            SeedreamAPI(SENTINEL_KEY, http_client=client)
    finally:
        if isinstance(client, httpx.AsyncClient):
            asyncio.run(client.aclose())


def test_http_client_and_transport_together_are_refused(recorder: Recorder) -> None:
    with httpx.Client() as own, pytest.raises(ConfigurationError, match="not both"):
        SeedreamAPI(SENTINEL_KEY, http_client=own, transport=recorder.transport)


# -- the key appears nowhere else -----------------------------------------------------------------------


def test_repr_str_and_attributes_never_show_the_key(api: SeedreamAPI) -> None:
    for text in (repr(api), str(api), repr(vars(api)), repr(api.http_client.headers)):
        assert SENTINEL_KEY not in text
    assert "***" in repr(api)


def test_exceptions_never_show_the_key_even_when_a_server_echoes_it() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]
        return httpx.Response(400, json={"error": {"code": "bad", "message": f"rejected header {auth}", "type": "x"}})

    with SeedreamAPI(SENTINEL_KEY, transport=Recorder(echo).transport) as api, pytest.raises(APIStatusError) as caught:
        api.create_generation("a lake")
    assert SENTINEL_KEY not in str(caught.value) and SENTINEL_KEY not in repr(caught.value)
    assert SENTINEL_KEY.encode() not in caught.value.body  # the body field is redacted too
    assert caught.value.response is not None and SENTINEL_KEY.encode() in caught.value.response.content  # raw

    def echo_200(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=f"<html>{request.headers['authorization']}</html>".encode())

    with (
        SeedreamAPI(SENTINEL_KEY, transport=Recorder(echo_200).transport) as api,
        pytest.raises(UnexpectedResponseError) as caught_200,
    ):
        api.get_task("task-unified-1")
    assert SENTINEL_KEY not in str(caught_200.value)

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"reset while sending {request.headers['authorization']}")

    with (
        SeedreamAPI(SENTINEL_KEY, transport=Recorder(boom).transport) as api,
        pytest.raises(APIConnectionError) as caught_conn,
    ):
        api.get_task("task-unified-1")
    assert SENTINEL_KEY not in str(caught_conn.value)

    with (
        SeedreamAPI(SENTINEL_KEY, transport=Recorder().transport) as api,
        pytest.raises(RequestValidationError) as caught_val,
    ):
        api.create_generation("a lake", n=99)
    assert SENTINEL_KEY not in str(caught_val.value)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._json(200, CREATED_BODY)

    def do_GET(self) -> None:
        if self.path.endswith("/missing"):
            self._json(404, {"error": {"code": "resource_not_found", "message": "gone", "type": "x"}})
        else:
            self._json(200, TASK_BODY)

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def loopback_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(2)


def test_debug_logs_of_seedream_httpx_and_httpcore_never_show_the_key(
    loopback_api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "seedream"):
        caplog.set_level(logging.DEBUG, logger=name)
    with SeedreamAPI(SENTINEL_KEY, base_url=loopback_api) as api:
        api.create_generation("a lake", size="16:9")
        api.get_task("task-unified-1")
        with pytest.raises(APIStatusError):
            api.get_task("missing")
        with pytest.raises(RequestValidationError):
            api.create_generation("a lake", n=0)

    async def run() -> None:
        async with AsyncSeedreamAPI(SENTINEL_KEY, base_url=loopback_api) as aapi:
            await aapi.get_task("task-unified-1")

    asyncio.run(run())
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore"} <= loggers, "the test must really capture httpx/httpcore DEBUG output"
    for record in caplog.records:
        assert SENTINEL_KEY not in record.getMessage()
        assert SENTINEL_KEY not in repr(record.args)
    assert SENTINEL_KEY not in caplog.text
