"""Layer 3: a server against the bundled spec, with schemathesis.

By default the server is the embedded simulator, twice: in-process (ASGI)
and over loopback (uvicorn on 127.0.0.1). With ``--base-url URL`` it is a
live server, in zero-spend mode unless ``--allow-spend N``:

- sent with the real key: bodies the spec says must be rejected (each breaks
  a schema constraint), task ids that are invalid or unknown, and task
  queries (reading is free);
- sent without the key or with a wrong one: anything (nothing can be billed
  without an account);
- valid generations only within the ``--allow-spend`` cap, one image each,
  without reference images or callbacks (the server would fetch or call them).

Every request that could be billed goes through :class:`SpendGuard` first;
if the server ever accepts a POST the spec says it must reject, the guard
trips and no further POST with the real key is sent.

schemathesis is configured once, by ``seedream.testing._schemathesis``
(the bundled spec, the key, and the filter that keeps prose-rule rejections
from being reported as server bugs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from seedream import _rules
from seedream._expectations import check_body
from seedream._spec import load_spec, request_body_validator
from seedream.testing._spec_cases import constraint_cases, operation, response_example

OPERATIONS = {
    "createImageGeneration": ("/v1/images/generations", "POST"),
    "getTaskDetail": ("/v1/tasks/{task_id}", "GET"),
    # Free to call: reading tasks (one or 50 at a time), the task list and the balance bill nothing.
    "batchQueryTasks": ("/v1/tasks/batch", "POST"),
    "listTasks": ("/v1/tasks", "GET"),
    "getCredits": ("/v1/credits", "GET"),
}
GENERATION = "/v1/images/generations"
MODES = ["positive", "negative", "missing_key", "wrong_key"]
_OPERATION_IDS = {path: operation_id for operation_id, (path, _) in OPERATIONS.items()}


def _can_be_invalid(operation_id: str) -> bool:
    """Whether the spec constrains any input of the operation (else schemathesis has no negative case)."""
    op = operation(operation_id)[2]
    constraints = {"pattern", "enum", "minLength", "maxLength", "format", "minimum", "maximum"}
    return "requestBody" in op or any(constraints & set(p.get("schema", {})) for p in op.get("parameters", []))


# A plain string path parameter cannot be made schema-invalid: then invalid and unknown ids are only
# sent by test_invalid_and_unknown_task_ids_get_their_documented_errors.
RUNS = [(op, mode) for op in OPERATIONS for mode in MODES if mode != "negative" or _can_be_invalid(op)]
WRONG_KEY = "sk-conformance-wrong-key"
TASK_PREFIX = "task-unified-"
# schemathesis checks that judge one response (the stateful and coverage-phase ones need
# links or generated methods/headers this suite does not use, so they would pass vacuously).
RESPONSE_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
MODE_CHECKS = {
    "positive": ["positive_data_acceptance", "ignored_auth"],
    "negative": ["negative_data_rejection"],
    "missing_key": [],
    "wrong_key": [],
}


# --- the spend guard --------------------------------------------------------------------------------


@dataclass
class SpendGuard:
    """Decides, before it is sent, whether a request may go to the server.

    ``budget`` is the number of requests that could be billed still allowed
    (-1: unlimited, offline). A request could be billed when it is a POST to
    the generation endpoint carrying the real key with a body the spec and the
    prose rules accept. Anything else the spec says must be rejected.

    ``held``: units of the budget kept back for a later phase (the stateful one, which
    :meth:`release` s them when it starts), so the layers before it cannot spend them all.
    """

    api_key: str
    budget: int
    held: int = 0
    billable_sent: int = 0
    refused: int = 0
    tripped: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _real_key_generation(self, method: str, path: str, headers: dict[str, str]) -> bool:
        """A POST to the generation endpoint with the real key (other POSTs, such as the batch query, are free)."""
        return (
            method.upper() == "POST"
            and path.endswith(GENERATION)
            and headers.get("Authorization") == f"Bearer {self.api_key}"
        )

    def could_be_billed(self, method: str, path: str, headers: dict[str, str], body: Any) -> bool:
        if method.upper() != "POST" or not path.endswith(GENERATION):
            return False
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return False
        # Only a body the spec calls invalid is sure to be refused before any charge.
        return bool(request_body_validator().is_valid(body))

    def admit(self, method: str, path: str, headers: dict[str, str], body: Any) -> bool:
        with self.lock:
            if self.tripped and self._real_key_generation(method, path, headers) and self.budget != -1:
                self.refused += 1
                return False
            if not self.could_be_billed(method, path, headers, body):
                return True
            if self.budget == -1:
                self.billable_sent += 1
                return True
            if self.billable_sent >= self.budget - self.held:
                self.refused += 1
                return False
            self.billable_sent += 1
            return True

    def release(self) -> int:
        """Give the held units back to whoever asks next; returns the billable requests now left."""
        with self.lock:
            self.held = 0
            return -1 if self.budget == -1 else max(self.budget - self.billable_sent, 0)

    def observe(
        self, method: str, headers: dict[str, str], body: Any, billable: bool, status: int, *, path: str = GENERATION
    ) -> None:
        """A must-reject generation POST with the real key that got a 2xx was probably charged: stop all such POSTs."""
        if self._real_key_generation(method, path, headers) and not billable and 200 <= status < 300:
            with self.lock:
                self.tripped = self.tripped or f"a POST the spec says must be rejected got {status}: {body!r:.200}"


# --- running cases and recording every check --------------------------------------------------------


@dataclass
class Outcome:
    failures: dict[str, str] = field(default_factory=dict)  # check -> first failure text
    cases: int = 0
    skipped: int = 0


def _headers_for(mode: str, case: Any, api_key: str) -> dict[str, str]:
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if mode in ("positive", "negative"):
        headers["Authorization"] = f"Bearer {api_key}"
    elif mode == "wrong_key":
        headers["Authorization"] = f"Bearer {WRONG_KEY}"
    return headers


def _check_functions() -> dict[str, Callable[..., Any]]:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    return {f.__name__: f for f in CHECKS.get_all()}


def _error_envelope_problems(response: Any, operation_id: str, results: Any = None) -> str | None:
    """The error answer judged field by field (``code``, ``message``, the documented ``type`` per status).

    By :func:`seedream._expectations.check_body`: the bundled spec and the expectations profile.
    Each deviation also goes to ``results`` (the reports' ``deviations``) when given.
    """
    content_type = response.headers.get("content-type")
    if isinstance(content_type, list):  # schemathesis' responses keep every value of a header
        content_type = content_type[0] if content_type else None
    found = check_body(operation_id, response.status_code, response.content, content_type=content_type)
    if not found:
        return None
    for deviation in found:
        if results is not None:
            results.add_deviation(f"HTTP {response.status_code} answer", deviation)
    return "; ".join(f"{d.pointer or '(answer)'} {d.kind} (got {d.example}; expected {d.rule})" for d in found)


def _run_case(
    case: Any,
    mode: str,
    target: Any,
    guard: SpendGuard,
    outcome: Outcome,
    record: Callable[[str, bool], None],
    results: Any = None,
) -> None:
    headers = _headers_for(mode, case, target.api_key)
    case.headers = headers
    billable = guard.could_be_billed(case.method, case.path, headers, case.body)
    if not guard.admit(case.method, case.path, headers, case.body):
        outcome.skipped += 1
        return
    kwargs: dict[str, Any] = {"headers": headers}
    if target.kind != "asgi":
        kwargs["base_url"] = target.base_url
        kwargs["session"] = _session(target)
    response = case.call(**kwargs)
    guard.observe(case.method, headers, case.body, billable, response.status_code, path=case.path)
    outcome.cases += 1
    from schemathesis.core.failures import FailureGroup

    checks = _check_functions()
    for name in RESPONSE_CHECKS + MODE_CHECKS[mode]:
        try:
            case.validate_response(response, checks=[checks[name]], headers=headers)
        except FailureGroup as exc:
            record(name, False)
            outcome.failures.setdefault(name, f"{case.method} {case.formatted_path}: {str(exc)[:1500]}")
        else:
            record(name, True)
    if mode in ("missing_key", "wrong_key"):
        problem = None if response.status_code == 401 else f"expected 401, got {response.status_code}"
        problem = problem or _error_envelope_problems(response, _OPERATION_IDS[case.path], results)
        record(f"rejects_{mode}", problem is None)
        if problem:
            outcome.failures.setdefault(f"rejects_{mode}", f"{case.method} {case.formatted_path}: {problem}")
    elif response.status_code >= 400:
        # Every other error answer too: its envelope field by field, per the documented example of its status.
        check = "error envelope per status (profile)"
        problem = _error_envelope_problems(response, _OPERATION_IDS[case.path], results)
        record(check, problem is None)
        if problem:
            outcome.failures.setdefault(check, f"{case.method} {case.formatted_path}: {problem}")


def _examples(config: pytest.Config, target: Any) -> int:
    chosen: int | None = config.getoption("--server-examples")
    return chosen if chosen is not None else (10 if target.live else 25)


def _live_post_body(body: Any) -> Any:
    """A live generation asks for one image, fetches nothing and calls nobody back."""
    if not isinstance(body, dict):
        return body
    body = {k: v for k, v in body.items() if k not in ("image_urls", "callback_url")}
    body["n"] = 1
    return body


@pytest.mark.parametrize(("operation_id", "mode"), RUNS)
def test_server_answers_generated_requests_per_the_spec(
    operation_id: str,
    mode: str,
    server_target: Any,
    schema: Any,
    guard: SpendGuard,
    conformance_results: Any,
    request: pytest.FixtureRequest,
) -> None:
    from schemathesis import GenerationMode

    path, method = OPERATIONS[operation_id]
    operation = schema[path][method]
    strategy = operation.as_strategy(
        generation_mode=GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    )
    reads_tasks = operation_id in ("getTaskDetail", "batchQueryTasks")
    real_ids = _real_task_ids(request, server_target, schema, guard) if reads_tasks else []
    generation = operation_id == "createImageGeneration"
    live_zero_spend_post = server_target.live and guard.budget == 0 and generation
    outcome = Outcome()

    def record(check: str, ok: bool) -> None:
        conformance_results.record(f"3 server ({server_target.kind})", operation_id, check, ok)

    if live_zero_spend_post and mode == "positive":
        pytest.skip("zero-spend live mode sends no valid generation request (use --allow-spend N)")

    # No shrinking, no replayed examples: every case is sent once, failures are collected, not raised,
    # so the number of requests is bounded by --server-examples (a live run's cost is known up front).
    @settings(
        max_examples=_examples(request.config, server_target),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, pick=st.integers(min_value=0, max_value=3))
    def run(case: Any, pick: int) -> None:
        if generation and mode == "positive":
            if server_target.live:
                case.body = _live_post_body(case.body)
            if isinstance(case.body, dict) and _rules.check_request(case.body) and server_target.live:
                outcome.skipped += 1
                return  # a prose-rule breach is not sent live: the server's answer to it is not ours to judge
        if generation and mode == "negative" and server_target.live and request_body_validator().is_valid(case.body):
            outcome.skipped += 1
            return  # negative only in a header: with the real key it would be a valid generation
        if operation_id == "getTaskDetail" and mode != "negative":
            # The spec cannot say that an id starts with `task-unified-` (400 otherwise): keep positive ids
            # well-formed, and sometimes a task that exists.
            task_id = str(case.path_parameters["task_id"])
            if real_ids and pick == 0:
                task_id = real_ids[0]
            elif not task_id.startswith(TASK_PREFIX):
                task_id = TASK_PREFIX + task_id
            case.path_parameters = {"task_id": task_id}
        if operation_id == "batchQueryTasks" and mode == "positive" and real_ids and pick == 0:
            ids = case.body.get("task_ids") if isinstance(case.body, dict) else None
            if isinstance(ids, list) and len(ids) < 50:  # a task that exists among the generated ids
                case.body = {**case.body, "task_ids": [*ids, real_ids[0]]}
        _run_case(case, mode, server_target, guard, outcome, record, conformance_results)

    run()
    assert outcome.cases > 0 or (server_target.live and outcome.skipped), "no case was sent"
    assert not guard.tripped, guard.tripped
    assert outcome.failures == {}, "\n\n".join(f"[{k}] {v}" for k, v in outcome.failures.items())


def _real_task_ids(request: pytest.FixtureRequest, target: Any, schema: Any, guard: SpendGuard) -> list[str]:
    """Ids of tasks that exist, made once per target (offline, or live within the spend cap)."""
    cache: dict[str, list[str]] = request.config.stash.setdefault(_IDS_KEY, {})
    if target.kind in cache:
        return cache[target.kind]
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {target.api_key}", "Content-Type": "application/json"}
    body = {"model": "doubao-seedream-5.0-lite", "prompt": "conformance probe", "n": 1}
    if guard.admit("POST", "/v1/images/generations", headers, body):
        response = _send(target, "POST", "/v1/images/generations", headers, body)
        if response.status_code == 200:
            ids.append(response.json()["id"])
    cache[target.kind] = ids
    return ids


_IDS_KEY = pytest.StashKey[dict[str, list[str]]]()


def _session(target: Any) -> Any:
    """One ``requests`` session per target for schemathesis calls: connections are reused, then closed."""
    if "session" not in target.extras:
        import requests

        target.extras["session"] = requests.Session()
        target.cleanups.append(target.extras["session"].close)
    return target.extras["session"]


def _send(target: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    """One request to the target outside schemathesis (a client per target, kept for the session)."""
    import httpx

    kwargs: dict[str, Any] = {"headers": headers} if body is None else {"headers": headers, "json": body}
    if target.kind == "asgi":
        import asyncio

        # httpx's own ASGI transport (starlette's TestClient warns without httpx2): one loop per request.
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=target.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(go())
    client = target.extras.get("client")
    if client is None:
        client = target.extras["client"] = httpx.Client(base_url=target.base_url, timeout=30)
        target.cleanups.append(client.close)
    return client.request(method, path, **kwargs)


# --- the spec's edges, deterministic ----------------------------------------------------------------

MUST_REJECT = constraint_cases()


def test_every_body_the_spec_rejects_gets_400_with_the_error_envelope(
    server_target: Any, guard: SpendGuard, conformance_results: Any
) -> None:
    """Each constraint of the request schema, broken alone: sent with the real key, it must be refused."""
    headers = {"Authorization": f"Bearer {server_target.api_key}", "Content-Type": "application/json"}
    failures: list[str] = []
    sent = 0
    for case in MUST_REJECT:
        assert not request_body_validator().is_valid(case.outside), case.id
        if not guard.admit("POST", "/v1/images/generations", headers, case.outside):
            failures.append(f"{case.id}: not sent ({guard.tripped})")
            continue
        response = _send(server_target, "POST", "/v1/images/generations", headers, case.outside)
        sent += 1
        guard.observe("POST", headers, case.outside, False, response.status_code)
        problem = None if response.status_code == 400 else f"expected 400, got {response.status_code}"
        problem = problem or _error_envelope_problems(response, "createImageGeneration", conformance_results)
        conformance_results.record(
            f"3 server ({server_target.kind})", "createImageGeneration", "spec edge: invalid body -> 400", not problem
        )
        if problem:
            failures.append(f"{case.id}: {problem}")
    assert sent == len(MUST_REJECT) or guard.tripped
    assert failures == []


@pytest.mark.parametrize(
    ("task_id", "status"),
    [
        ("not-a-task", 400),
        ("task-unifie-1757165031", 400),
        ("TASK-UNIFIED-1757165031-seedream5lite", 400),
        (f"{TASK_PREFIX}0-conformance-unknown", 404),
        (f"{TASK_PREFIX}1757165031-{'z' * 40}", 404),
    ],
)
def test_invalid_and_unknown_task_ids_get_their_documented_errors(
    task_id: str, status: int, server_target: Any, conformance_results: Any
) -> None:
    headers = {"Authorization": f"Bearer {server_target.api_key}"}
    response = _send(server_target, "GET", f"/v1/tasks/{task_id}", headers)
    problem = _error_envelope_problems(response, "getTaskDetail", conformance_results)
    ok = response.status_code == status and problem is None
    check = "spec edge: invalid id -> 400" if status == 400 else "spec edge: unknown id -> 404"
    conformance_results.record(f"3 server ({server_target.kind})", "getTaskDetail", check, ok)
    assert response.status_code == status, response.text
    body = response.json()
    assert problem is None, problem
    example = response_example("getTaskDetail", status)
    assert example is not None and body["error"]["code"] == example["error"]["code"]


def test_the_spec_is_what_schemathesis_loaded(schema: Any) -> None:
    loaded = {(result.ok().path, result.ok().method.upper()) for result in schema.get_all_operations()}
    assert loaded == set(OPERATIONS.values())
    assert load_spec()["paths"].keys() == {p for p, _ in OPERATIONS.values()}
