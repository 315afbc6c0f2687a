"""A battery of API drifts (and of allowed changes) as mutations of correct answers.

Each :class:`DriftCase` turns a correct answer of one operation into what a
drifted API might send: changed status values, a changed id format,
renamed, removed and retyped fields in create and task bodies, a changed
error envelope, a changed content type. ``allowed`` cases are changes a
tolerant reader must accept (an extra field, an absent optional field,
another key order, a charset parameter): no checker may flag them.

The mutations work on parsed JSON, so the same battery can be applied to a
real server's answers at run time: :class:`DriftingTransport` wraps any httpx
transport (the simulator's ASGI app, a loopback server) and drifts every
answer a case applies to. :meth:`DriftCase.applies_to` says whether an answer
is one the case changes, :meth:`DriftCase.apply` changes it.
:func:`correct_answer` gives the correct answer each case starts from
offline, built from the spec's examples.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._spec_cases import match_operation, response_example, success_body

__all__ = ["CASES", "Answer", "DriftCase", "DriftingTransport", "correct_answer"]

JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as a checker sees it."""

    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class DriftCase:
    name: str
    operation: str
    status: int  # the status of the correct answer it mutates
    task_status: str | None  # for task bodies: the `status` the correct answer has, else None
    mutate: Callable[[Any], Any]
    drift: bool  # True: must be detected; False: an allowed change, must not be flagged
    expect: tuple[tuple[str, str], ...] = ()  # (JSON pointer, deviation kind) a detector should report
    new_status: int | None = None
    content_type: str | None = None  # replaces the answer's content type
    raw: bytes | None = None  # replaces the body entirely (not JSON)

    def applies_to(self, operation: str, status: int, body: Any) -> bool:
        if operation != self.operation or status != self.status:
            return False
        return self.task_status is None or (isinstance(body, Mapping) and body.get("status") == self.task_status)

    def apply(self, answer: Answer) -> Answer:
        body = self.raw
        if body is None:
            body = json.dumps(self.mutate(copy.deepcopy(json.loads(answer.body)))).encode()
        return Answer(self.new_status or answer.status, body, self.content_type or answer.content_type)


def correct_answer(operation: str, status: int, task_status: str | None = None) -> Answer:
    """A correct answer from the spec's own examples (a failed task: the completed example, failed)."""
    body = success_body(operation) if status == 200 else response_example(operation, status)
    if body is None:
        raise KeyError(f"the spec has no example for {operation} {status}")
    if task_status is not None and body.get("status") != task_status:
        body["status"] = task_status
        if task_status != "completed":
            body.pop("results", None)
            body["progress"] = 37
        if task_status == "failed":
            # spec-facts: a failed task carries error {code, message}; the code from the failure table.
            body["error"] = {"code": "content_policy_violation", "message": "The prompt was rejected"}
    return Answer(status, json.dumps(body).encode(), JSON)


def _set(**fields: Any) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        body.update(fields)
        return body

    return mutate


def _rename(old: str, new: str) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        body[new] = body.pop(old)
        return body

    return mutate


def _drop(*names: str) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        for name in names:
            body.pop(name, None)
        return body

    return mutate


def _in(key: str, inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def mutate(body: Any) -> Any:
        body[key] = inner(body[key])
        return body

    return mutate


def _keep(body: Any) -> Any:
    return body


def _reversed_keys(body: Any) -> Any:
    return dict(reversed(list(body.items())))


def _results_as_objects(body: Any) -> Any:
    body["results"] = [{"url": url} for url in body["results"]]
    return body


def _flat_error(body: Any) -> Any:
    return {"code": body["error"]["code"], "message": body["error"]["message"]}


CREATE, TASK = "createImageGeneration", "getTaskDetail"

CASES: tuple[DriftCase, ...] = (
    # --- drifts: each must be detected ---------------------------------------------------------------
    DriftCase(
        "create status value renamed", CREATE, 200, None, _set(status="queued"), True, (("/status", "unknown-enum"),)
    ),
    DriftCase(
        "task status value renamed",
        TASK,
        200,
        "completed",
        _set(status="succeeded"),
        True,
        (("/status", "unknown-enum"),),
    ),
    DriftCase(
        "create id format changed", CREATE, 200, None, _set(id="img_9f8e7d6c5b4a3928"), True, (("/id", "bad-shape"),)
    ),
    DriftCase(
        "task id format changed",
        TASK,
        200,
        "completed",
        _set(id="0b9e4c1e-6a4f-4f7e-9d6c-3f3b2a1e9c8d"),
        True,
        (("/id", "bad-shape"),),
    ),
    DriftCase("create id renamed to task_id", CREATE, 200, None, _rename("id", "task_id"), True, (("/id", "missing"),)),
    DriftCase("create created removed", CREATE, 200, None, _drop("created"), True, (("/created", "missing"),)),
    DriftCase(
        "create created retyped to ISO text",
        CREATE,
        200,
        None,
        _set(created="2025-09-06T13:23:51Z"),
        True,
        (("/created", "wrong-type"),),
    ),
    DriftCase(
        "create created in milliseconds",
        CREATE,
        200,
        None,
        _set(created=1757165031000),
        True,
        (("/created", "out-of-range"),),
    ),
    DriftCase(
        "create object value changed",
        CREATE,
        200,
        None,
        _set(object="image_generation"),
        True,
        (("/object", "unknown-enum"),),
    ),
    DriftCase(
        "task results renamed", TASK, 200, "completed", _rename("results", "images"), True, (("/results", "missing"),)
    ),
    DriftCase("task results removed", TASK, 200, "completed", _drop("results"), True, (("/results", "missing"),)),
    DriftCase(
        "task results retyped to objects",
        TASK,
        200,
        "completed",
        _results_as_objects,
        True,
        (("/results/0", "wrong-type"),),
    ),
    DriftCase(
        "task results relative paths",
        TASK,
        200,
        "completed",
        _set(results=["/files/image.png"]),
        True,
        (("/results/0", "bad-shape"),),
    ),
    DriftCase(
        "task progress retyped to text",
        TASK,
        200,
        "processing",
        _set(progress="37%"),
        True,
        (("/progress", "wrong-type"),),
    ),
    DriftCase(
        "task progress as a fraction",
        TASK,
        200,
        "completed",
        _set(progress=1.0),
        True,
        (("/progress", "out-of-range"),),
    ),
    DriftCase(
        "failed task error as text",
        TASK,
        200,
        "failed",
        _set(error="content_policy_violation"),
        True,
        (("/error", "wrong-type"),),
    ),
    DriftCase(
        "failed task error fields renamed",
        TASK,
        200,
        "failed",
        _set(error={"reason": "content_policy_violation", "detail": "rejected"}),
        True,
        (("/error/code", "missing"), ("/error/message", "missing")),
    ),
    DriftCase("failed task error removed", TASK, 200, "failed", _drop("error"), True, (("/error", "missing"),)),
    DriftCase("error envelope flattened", CREATE, 400, None, _flat_error, True, (("/error", "missing"),)),
    DriftCase(
        "error code retyped to a boolean",
        CREATE,
        400,
        None,
        _in("error", _set(code=True)),
        True,
        (("/error/code", "wrong-type"),),
    ),
    DriftCase(
        "error type value changed",
        TASK,
        401,
        None,
        _in("error", _set(type="auth_error")),
        True,
        (("/error/type", "unknown-enum"),),
    ),
    DriftCase(
        "error type removed", CREATE, 429, None, _in("error", _drop("type")), True, (("/error/type", "missing"),)
    ),
    DriftCase(
        "error answered as an HTML page",
        CREATE,
        500,
        None,
        _keep,
        True,
        (("", "content-type"), ("", "not-json")),
        content_type="text/html; charset=utf-8",
        raw=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    ),
    DriftCase(
        "create content type changed",
        CREATE,
        200,
        None,
        _keep,
        True,
        (("", "content-type"),),
        content_type="text/plain",
    ),
    DriftCase(
        "create answered with an undocumented status",
        CREATE,
        400,
        None,
        _keep,
        True,
        (("", "undocumented-status"),),
        new_status=422,
    ),
    # --- allowed changes: none may be flagged ---------------------------------------------------------
    DriftCase("extra top-level field", CREATE, 200, None, _set(request_id="req_123"), False),
    DriftCase(
        "extra task fields (result_data, usage)",
        TASK,
        200,
        "completed",
        _set(result_data=[{"image_url": "https://cdn.example/a.png"}], usage={"credits_reserved": 2.2}),
        False,
    ),
    DriftCase("extra nested field in task_info", CREATE, 200, None, _in("task_info", _set(queue_position=3)), False),
    DriftCase("optional fields absent", CREATE, 200, None, _drop("usage", "task_info"), False),
    DriftCase("estimated_time absent", TASK, 200, "completed", _in("task_info", _drop("estimated_time")), False),
    DriftCase("keys in another order", TASK, 200, "completed", _reversed_keys, False),
    DriftCase(
        "charset in the content type",
        TASK,
        200,
        "completed",
        _keep,
        False,
        content_type="application/json; charset=utf-8",
    ),
    DriftCase("cancelled task status", TASK, 200, "processing", _set(status="cancelled"), False),
    DriftCase("another id suffix", CREATE, 200, None, _set(id="task-unified-1757165031-Ab_9.x"), False),
    DriftCase(
        "extra error fields (param, fallback_suggestion)",
        CREATE,
        400,
        None,
        _in("error", _set(param="size", fallback_suggestion="use 2K")),
        False,
    ),
    DriftCase("another model name", CREATE, 200, None, _set(model="doubao-seedream-5-0-lite-260128"), False),
    # spec-facts "Balance": "`error.code` is not always a string: a client must keep it".
    DriftCase("integer error code", CREATE, 400, None, _in("error", _set(code=400)), False),
)


@dataclass
class DriftingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport that passes requests to ``inner`` and drifts the answers ``case`` applies to.

    ``drifted`` counts the answers changed, so a test can tell a case that
    never met its answer from one that went unnoticed.
    """

    inner: httpx.BaseTransport | httpx.AsyncBaseTransport
    case: DriftCase
    drifted: int = field(default=0)

    def _drift(self, request: httpx.Request, response: httpx.Response, content: bytes) -> httpx.Response:
        found = match_operation(request.method, request.url.raw_path.decode("ascii").partition("?")[0])
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if found is None or not self.case.applies_to(found[0], response.status_code, body):
            return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)
        answer = Answer(response.status_code, content, response.headers.get("content-type", ""))
        changed = self.case.apply(answer)
        self.drifted += 1
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in {"content-type", "content-length"}]
        headers.append(("content-type", changed.content_type))
        return httpx.Response(changed.status, headers=headers, content=changed.body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.inner, httpx.BaseTransport):
            raise TypeError("the inner transport is async-only; use an httpx.AsyncClient")
        response = self.inner.handle_request(request)
        return self._drift(request, response, response.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.inner, httpx.AsyncBaseTransport):
            raise TypeError("the inner transport is sync-only; use an httpx.Client")
        response = await self.inner.handle_async_request(request)
        return self._drift(request, response, await response.aread())

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()
