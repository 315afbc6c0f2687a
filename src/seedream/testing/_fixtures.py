"""The machinery behind the pytest plugin's fixtures (imported only when a fixture is used).

``mock_api`` installs respx routes that answer like the spec says the API
does: the request is checked against the bundled spec and the prose rules,
errors carry the spec's own example bodies, a created task reports
``processing`` for ``polls`` queries and then completes (or fails with
``task_failure``), and its result links serve an image of the size asked for.
``start_simulator`` runs the embedded simulator on 127.0.0.1.

``pace_clients`` makes ``Seedream`` / ``AsyncSeedream`` clients built during
the test keep pace with the fixture without the test saying how: their
keyword defaults are swapped for the test (``monkeypatch`` restores them), so
a client built without ``polling=``/``sleep=``/``clock=`` polls the
simulator on its time scale, or, under respx, waits on a virtual clock that
moves on at once. Arguments a test passes still win.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import io
import itertools
import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from .. import _rules
from .._settings import DEFAULT_BASE_URL
from ._spec_cases import request_problems, response_example, success_body

__all__ = [
    "DEFAULT_API_KEY",
    "RESPX_MISSING",
    "RespxAPI",
    "RunningSimulator",
    "VirtualClock",
    "marker_options",
    "mock_api",
    "pace_clients",
    "start_simulator",
]

DEFAULT_API_KEY = "sk-seedream-test"
RESPX_BASE_URL = DEFAULT_BASE_URL  # the real API, mocked: clients left at their defaults hit the routes
FILES_BASE_URL = "https://files.seedream.test"

_COMMON = {"api_key", "n_fail", "fail_status", "task_failure", "fast"}
RESPX_MISSING = (
    "the seedream_respx fixture needs respx, which seedream installs only with its testing extra: "
    "pip install 'seedream[testing]'"
)
_RESPX_ONLY = {"polls", "base_url", "using"}
_FAULTS = {"5xx": "fault_5xx", "429": "fault_429", "drop": "fault_drop", "latency": "fault_latency"}


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """Keyword options of every ``@pytest.mark.seedream`` on the test; the closest marker wins."""
    options: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers("seedream"))):
        if mark.args:
            raise pytest.UsageError("@pytest.mark.seedream takes keyword options only, e.g. seedream(n_fail=2)")
        options.update(mark.kwargs)
    return options


def _error_body(operation_id: str, status: int, message: str | None = None) -> dict[str, Any]:
    body = response_example(operation_id, status)
    if not isinstance(body, dict):
        # a status the operation does not document: the spec's error envelope all the same
        body = {"error": {"code": f"http_{status}", "message": f"HTTP {status}", "type": "api_error"}}
    if message is not None:
        body["error"]["message"] = message
    return body


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise pytest.UsageError(f"@pytest.mark.seedream: {name} must be a non-negative integer (got {value!r})")
    return value


# --- client pace -----------------------------------------------------------------------------------


class VirtualClock:
    """``clock``/``sleep`` for clients under ``seedream_respx``: a sleep moves time on at once.

    Each asyncio task (and each thread) has its own timeline, starting from
    its parent's reading, so tasks waiting side by side do not add up their
    waits. ``now`` is the reading here, ``latest`` the furthest any timeline
    got, ``slept`` the seconds the clients slept in all and ``sleeps`` how
    many times.
    """

    def __init__(self) -> None:
        self._now: contextvars.ContextVar[float] = contextvars.ContextVar("seedream_virtual_now", default=0.0)
        self.latest = 0.0
        self.slept = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self._now.get()

    @property
    def now(self) -> float:
        return self._now.get()

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        now = self._now.get() + seconds
        self._now.set(now)
        self.latest = max(self.latest, now)
        self.slept += seconds
        self.sleeps += 1

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still a point where the other tasks run


def pace_clients(monkeypatch: pytest.MonkeyPatch, *, polling: Any = None, clock: VirtualClock | None = None) -> None:
    """For this test, ``Seedream()`` / ``AsyncSeedream()`` default to ``polling`` and to ``clock``'s time."""
    from .._async._workflow import AsyncSeedream
    from .._sync._workflow import Seedream

    for cls, sleep in ((Seedream, clock and clock.sleep), (AsyncSeedream, clock and clock.async_sleep)):
        defaults = cls.__init__.__kwdefaults__
        assert defaults is not None and {"polling", "sleep", "clock"} <= set(defaults), cls
        if polling is not None:
            monkeypatch.setitem(defaults, "polling", polling)
        if clock is not None:
            monkeypatch.setitem(defaults, "clock", clock)
            monkeypatch.setitem(defaults, "sleep", sleep)


def fast(options: Mapping[str, Any]) -> bool:
    value = options.get("fast", True)
    if not isinstance(value, bool):
        raise pytest.UsageError(f"@pytest.mark.seedream: fast must be True or False (got {value!r})")
    return value


# --- respx -----------------------------------------------------------------------------------------


@dataclass
class _Task:
    body: dict[str, Any]
    request: dict[str, Any]
    polls: int = 0


@dataclass
class RespxAPI:
    """The mocked API: ``router`` (respx), its ``base_url`` and ``api_key``, the routes and the tasks made."""

    router: Any
    base_url: str
    api_key: str
    clock: VirtualClock | None = None
    polls: int = 1
    n_fail: int = 0
    fail_status: int = 500
    task_failure: str | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _state: dict[str, _Task] = field(default_factory=dict, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _posts: int = 0
    _images: dict[tuple[int, int, str], bytes] = field(default_factory=dict, repr=False)
    _keys: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict, repr=False)  # Idempotency-Key

    @property
    def create_route(self) -> Any:
        return self.router.routes["seedream_create"]

    @property
    def task_route(self) -> Any:
        return self.router.routes["seedream_task"]

    @property
    def file_route(self) -> Any:
        return self.router.routes["seedream_files"]

    # respx side effects -------------------------------------------------------------------------

    def _unauthorized(self, request: httpx.Request, operation_id: str) -> httpx.Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme == "Bearer" and token == self.api_key:
            return None
        return httpx.Response(401, json=_error_body(operation_id, 401))

    def create(self, request: httpx.Request) -> httpx.Response:
        self._posts += 1
        if self._posts <= self.n_fail:
            return httpx.Response(self.fail_status, json=_error_body("createImageGeneration", self.fail_status))
        denied = self._unauthorized(request, "createImageGeneration")
        if denied is not None:
            return denied
        problems = request_problems(request)
        body: Any = None
        if not problems:
            body = json.loads(request.content)
            problems = [f"{v.field}: {v.rule}" for v in _rules.check_request(body)]
        if problems:
            return httpx.Response(400, json=_error_body("createImageGeneration", 400, problems[0]))
        key = request.headers.get("idempotency-key")
        if key and key in self._keys:  # as the simulator: same body, the original answer; another, 409
            first_body, first_answer = self._keys[key]
            if first_body != body:
                return httpx.Response(409, json=_error_body("createImageGeneration", 409))
            return httpx.Response(200, json=first_answer, headers={"idempotency-replayed": "true"})
        created = int(time.time())
        task_id = f"task-unified-{created}-respx{next(self._ids)}"
        answer = success_body("createImageGeneration")
        answer.update(id=task_id, created=created, status="pending", progress=0)
        self._state[task_id] = _Task(body=answer, request=body)
        self.tasks[task_id] = body
        if key:
            self._keys[key] = (body, answer)
        return httpx.Response(200, json=answer)

    def batch(self, request: httpx.Request) -> httpx.Response:
        """``POST /v1/tasks/batch``: each known id counts as one poll of its task; unknown ids are absent."""
        denied = self._unauthorized(request, "batchQueryTasks")
        if denied is not None:
            return denied
        try:
            ids = json.loads(request.content).get("task_ids")
        except (ValueError, AttributeError):
            ids = None
        if not isinstance(ids, list) or len(ids) > 50 or not all(isinstance(i, str) for i in ids):
            return httpx.Response(400, json=_error_body("batchQueryTasks", 400))
        data = []
        for task_id in dict.fromkeys(ids):
            state = self._state.get(task_id)
            if state is not None:
                state.polls += 1
                data.append(self._detail(task_id, state))
        return httpx.Response(200, json={"data": data})

    def list_tasks(self, request: httpx.Request) -> httpx.Response:
        denied = self._unauthorized(request, "listTasks")
        if denied is not None:
            return denied
        page = int(request.url.params.get("page", "1"))
        size = int(request.url.params.get("page_size", "20"))
        items = [
            {
                "id": task_id,
                "model": state.request["model"],
                "status": "processing" if state.polls <= self.polls else "completed",
                "type": "image",
                "created_at": state.body["created"],
                "credits_used": 0.0,
                "has_results": state.polls > self.polls and self.task_failure is None,
                "has_error": state.polls > self.polls and self.task_failure is not None,
            }
            for task_id, state in reversed(self._state.items())
        ]
        data = items[(page - 1) * size : page * size]
        return httpx.Response(200, json={"data": data, "total": len(items), "page": page, "page_size": size})

    def credits(self, request: httpx.Request) -> httpx.Response:
        denied = self._unauthorized(request, "getCredits")
        return denied if denied is not None else httpx.Response(200, json=success_body("getCredits"))

    def task(self, request: httpx.Request) -> httpx.Response:
        denied = self._unauthorized(request, "getTaskDetail")
        if denied is not None:
            return denied
        task_id = unquote(request.url.raw_path.decode("ascii").split("?")[0].rsplit("/", 1)[1])
        if not task_id.startswith("task-unified-"):
            return httpx.Response(400, json=_error_body("getTaskDetail", 400))
        state = self._state.get(task_id)
        if state is None:
            return httpx.Response(404, json=_error_body("getTaskDetail", 404))
        state.polls += 1
        return httpx.Response(200, json=self._detail(task_id, state))

    def _detail(self, task_id: str, state: _Task) -> dict[str, Any]:
        detail: dict[str, Any] = copy.deepcopy(success_body("getTaskDetail"))
        detail.update(id=task_id, created=state.body["created"], model=state.request["model"])
        detail.pop("results", None)
        detail.pop("error", None)
        if state.polls <= self.polls:
            detail.update(status="processing", progress=min(99, 100 * state.polls // (self.polls + 1)))
            detail["task_info"] = {"can_cancel": True, "estimated_time": 10}
            return detail
        detail["progress"] = 100
        detail["task_info"] = {"can_cancel": False}
        if self.task_failure is not None:
            message = f"the task failed with {self.task_failure} (seedream_respx task_failure)"
            detail.update(status="failed", error={"code": self.task_failure, "message": message})
            return detail
        request = state.request
        count = _rules.generated_image_count(request.get("n"), len(request.get("image_urls") or []))
        fmt = (request.get("model_params") or {}).get("output_format", "jpeg")
        width, height = _rules.output_size(request.get("size"), request.get("quality"))
        detail.update(
            status="completed",
            results=[f"{FILES_BASE_URL}/{task_id}/{i}-{width}x{height}.{fmt}" for i in range(count)],
        )
        return detail

    def file(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[1]
        stem, _, fmt = name.partition(".")
        try:
            width, height = (int(x) for x in stem.split("-", 1)[1].split("x"))
        except (IndexError, ValueError):
            return httpx.Response(404)
        key = (width, height, fmt)
        if key not in self._images:
            from PIL import Image

            buffer = io.BytesIO()
            Image.new("RGB", (width, height), (90, 140, 200)).save(buffer, format="PNG" if fmt == "png" else "JPEG")
            self._images[key] = buffer.getvalue()
        return httpx.Response(200, content=self._images[key], headers={"content-type": f"image/{fmt}"})


@contextmanager
def mock_api(options: Mapping[str, Any]) -> Iterator[RespxAPI]:
    """respx routes for every operation and the result files, per ``options`` (the marker's keywords)."""
    missing = False
    try:
        import respx
    except ModuleNotFoundError as exc:
        if exc.name != "respx":
            raise
        missing = True
    if missing:  # outside the except block: the message alone, not a chained traceback
        pytest.fail(RESPX_MISSING, pytrace=False)

    unknown = set(options) - _COMMON - _RESPX_ONLY
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.seedream: seedream_respx does not know {', '.join(sorted(unknown))} "
            f"(it knows {', '.join(sorted(_COMMON | _RESPX_ONLY))})"
        )
    base_url = str(options.get("base_url", RESPX_BASE_URL)).rstrip("/")
    using = options.get("using", "httpcore")
    with respx.mock(assert_all_called=False, assert_all_mocked=True, using=using) as router:
        api = RespxAPI(
            router=router,
            base_url=base_url,
            api_key=str(options.get("api_key", DEFAULT_API_KEY)),
            polls=_count("polls", options.get("polls", 1)),
            n_fail=_count("n_fail", options.get("n_fail", 0)),
            fail_status=_count("fail_status", options.get("fail_status", 500)),
            task_failure=options.get("task_failure"),
            clock=VirtualClock() if fast(options) else None,
        )
        router.post(f"{base_url}/v1/images/generations", name="seedream_create").mock(side_effect=api.create)
        router.post(f"{base_url}/v1/tasks/batch", name="seedream_batch").mock(side_effect=api.batch)
        router.get(url__startswith=f"{base_url}/v1/tasks/", name="seedream_task").mock(side_effect=api.task)
        router.get(url__regex=rf"^{re.escape(base_url)}/v1/tasks(\?.*)?$", name="seedream_list").mock(
            side_effect=api.list_tasks
        )
        router.get(f"{base_url}/v1/credits", name="seedream_credits").mock(side_effect=api.credits)
        router.get(url__startswith=f"{FILES_BASE_URL}/", name="seedream_files").mock(side_effect=api.file)
        yield api


# --- the simulator ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningSimulator:
    """A simulator serving on 127.0.0.1: ``base_url``, ``api_key``, ``counters()``, ``config`` and ``server``."""

    base_url: str
    api_key: str
    config: Any
    server: Any
    polling: Any = None  # the PollPolicy Seedream clients default to in the test (None: fast=False)

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.server.counters()
        return counters


def simulator_config(options: Mapping[str, Any]) -> Any:
    """A ``SimulatorConfig`` (test defaults: loopback only, fast time) from the marker's options."""
    from ..simulator import SimulatorConfig

    respx_only = set(options) & _RESPX_ONLY
    if respx_only:
        raise pytest.UsageError(f"@pytest.mark.seedream: {', '.join(sorted(respx_only))} only apply to seedream_respx")
    settings = {k: v for k, v in options.items() if k not in _COMMON and k != "faults"}
    settings["api_keys"] = (str(options.get("api_key", DEFAULT_API_KEY)),)
    faults = options.get("faults") or {}
    if not isinstance(faults, Mapping):
        raise pytest.UsageError("@pytest.mark.seedream: faults must be a mapping such as {'5xx': 0.2}")
    for name, value in faults.items():
        if name not in _FAULTS:
            raise pytest.UsageError(f"@pytest.mark.seedream: faults knows {', '.join(_FAULTS)} (got {name!r})")
        settings[_FAULTS[name]] = value
    try:
        return SimulatorConfig.for_tests(**settings)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"@pytest.mark.seedream: {exc}") from None


def _steered_app(config: Any, *, n_fail: int, fail_status: int, task_failure: str | None) -> Any:
    """A simulator whose first ``n_fail`` generation requests fail, and whose tasks fail with ``task_failure``.

    Failing tasks use the simulator's own prompt marker ``[sim:fail=CODE]``, appended to each prompt.
    """
    from ..simulator import SimulatorApp

    failure_body = json.dumps(_error_body("createImageGeneration", fail_status)).encode()
    marker = f" [sim:fail={task_failure}]" if task_failure else ""

    class SteeredSimulator(SimulatorApp):
        remaining = n_fail

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            is_create = (
                scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/images/generations"
            )
            if is_create and self.remaining > 0:
                self.remaining -= 1
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(failure_body)).encode())]
                await send({"type": "http.response.start", "status": fail_status, "headers": headers})
                await send({"type": "http.response.body", "body": failure_body})
                return
            if is_create and marker:
                scope, receive = await _with_marker(scope, receive, marker)
            await super().__call__(scope, receive, send)

    return SteeredSimulator(config)


async def _with_marker(scope: Any, receive: Any, marker: str) -> tuple[Any, Any]:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    raw = b"".join(chunks)
    try:
        body = json.loads(raw)
        body["prompt"] = str(body["prompt"]) + marker
        raw = json.dumps(body).encode()
    except (ValueError, KeyError, TypeError):
        pass  # not a usable body: the simulator answers it as it is
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return {**scope, "headers": headers}, replay


@contextmanager
def start_simulator(options: Mapping[str, Any]) -> Iterator[RunningSimulator]:
    from ..simulator import run_simulator

    config = simulator_config(options)
    fast(options)
    n_fail = _count("n_fail", options.get("n_fail", 0))
    fail_status = _count("fail_status", options.get("fail_status", 500))
    task_failure = options.get("task_failure")
    app = None
    if n_fail or task_failure:
        app = _steered_app(config, n_fail=n_fail, fail_status=fail_status, task_failure=task_failure)
    try:
        with run_simulator(config, app=app) as server:
            polling = None
            if fast(options):
                from .._polling import PollPolicy

                polling = PollPolicy().scaled(config.time_scale)  # the simulator's seconds, in real seconds
            yield RunningSimulator(
                base_url=server.base_url, api_key=config.api_keys[0], config=config, server=server, polling=polling
            )
    finally:
        if app is not None:
            app.close()
