"""Safe defaults: finite timeouts (per client and per call, whatever httpx client), base URL, task-id paths."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from seedream import ConfigurationError, SeedreamAPI
from seedream._settings import DEFAULT_TIMEOUT

from .helpers import SENTINEL_KEY, Recorder


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    return dict(request.extensions["timeout"])


def test_the_default_timeouts_are_finite_with_a_short_connect(api: SeedreamAPI, recorder: Recorder) -> None:
    for value in (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read, DEFAULT_TIMEOUT.write, DEFAULT_TIMEOUT.pool):
        assert value is not None and math.isfinite(value) and value > 0
    assert DEFAULT_TIMEOUT.connect is not None and DEFAULT_TIMEOUT.read is not None
    assert DEFAULT_TIMEOUT.connect <= 10 < DEFAULT_TIMEOUT.read
    assert api.timeout == DEFAULT_TIMEOUT
    api.create_generation("a lake")
    api.get_task("task-unified-1")
    for request in recorder.requests:
        assert _timeouts(request) == DEFAULT_TIMEOUT.as_dict()


def test_the_finite_default_applies_even_on_a_caller_client_built_without_timeouts() -> None:
    recorder = Recorder()
    with httpx.Client(transport=recorder.transport, timeout=None) as own:
        SeedreamAPI(SENTINEL_KEY, http_client=own).get_task("task-unified-1")
    assert _timeouts(recorder.requests[0]) == DEFAULT_TIMEOUT.as_dict()


@pytest.mark.parametrize(
    ("given", "expected"),
    [(5, httpx.Timeout(5.0)), (2.5, httpx.Timeout(2.5)), (httpx.Timeout(30, connect=3), httpx.Timeout(30, connect=3))],
)
def test_a_client_timeout_applies_to_every_call(given: Any, expected: httpx.Timeout) -> None:
    recorder = Recorder()
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport, timeout=given) as api:
        api.create_generation("a lake")
        api.get_task("task-unified-1")
    assert [_timeouts(r) for r in recorder.requests] == [expected.as_dict()] * 2


def test_a_per_call_timeout_applies_to_that_call_only(api: SeedreamAPI, recorder: Recorder) -> None:
    api.create_generation("a lake", timeout=3)
    api.create_generation_from_body({"model": "doubao-seedream-5.0-lite", "prompt": "x"}, timeout=httpx.Timeout(4))
    api.get_task("task-unified-1", timeout=1.5)
    api.get_task("task-unified-1")
    assert [_timeouts(r)["read"] for r in recorder.requests] == [3.0, 4.0, 1.5, DEFAULT_TIMEOUT.read]


def test_a_per_call_timeout_reaches_a_caller_client_too() -> None:
    recorder = Recorder()
    with httpx.Client(transport=recorder.transport) as own:
        SeedreamAPI(SENTINEL_KEY, http_client=own).get_task("task-unified-1", timeout=7)
    assert _timeouts(recorder.requests[0])["read"] == 7.0


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10", True])
def test_a_nonsense_timeout_is_a_configuration_error(bad: Any, api: SeedreamAPI, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        SeedreamAPI(SENTINEL_KEY, timeout=bad)
    with pytest.raises(ConfigurationError, match="timeout"):
        api.get_task("task-unified-1", timeout=bad)
    assert recorder.count == 0


# -- base URL ---------------------------------------------------------------------------------------


def test_the_base_url_defaults_to_the_vendor(api: SeedreamAPI, recorder: Recorder) -> None:
    api.create_generation("a lake")
    assert str(recorder.requests[0].url) == "https://api.evolink.ai/v1/images/generations"


def test_the_base_url_comes_from_seedream_base_url_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDREAM_BASE_URL", "http://127.0.0.1:8123/")
    recorder = Recorder()
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api:
        api.get_task("task-unified-1")
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport, base_url="http://127.0.0.1:9/proxy") as api:
        api.create_generation("a lake")
    assert [str(r.url) for r in recorder.requests] == [
        "http://127.0.0.1:8123/v1/tasks/task-unified-1",
        "http://127.0.0.1:9/proxy/v1/images/generations",
    ]
    assert recorder.requests[0].headers["host"] == "127.0.0.1:8123"


@pytest.mark.parametrize("bad", ["api.evolink.ai", "ftp://api.evolink.ai", "https://", "https://x/?q=1", "http://[::1"])
def test_a_malformed_base_url_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        SeedreamAPI(SENTINEL_KEY, base_url=bad)


# -- task ids stay one path segment --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task_id", "raw_path"),
    [
        ("task-unified-1757165031-seedream5lite", b"/v1/tasks/task-unified-1757165031-seedream5lite"),
        ("a/b", b"/v1/tasks/a%2Fb"),
        ("x?y=1#z", b"/v1/tasks/x%3Fy%3D1%23z"),
        ("..", b"/v1/tasks/%2E%2E"),
        (".", b"/v1/tasks/%2E"),
        ("../../v1/images/generations", b"/v1/tasks/..%2F..%2Fv1%2Fimages%2Fgenerations"),
        ("tâche 1", b"/v1/tasks/t%C3%A2che%201"),
    ],
)
def test_a_task_id_is_sent_as_one_escaped_path_segment(
    api: SeedreamAPI, recorder: Recorder, task_id: str, raw_path: bytes
) -> None:
    api.get_task(task_id)
    assert recorder.requests[0].url.raw_path == raw_path
    assert recorder.requests[0].method == "GET"
