"""The simulator with a drift applied at run time, served like any server: the detection battery's target.

:class:`DriftingApp` is a :class:`~seedream.simulator.SimulatorApp` whose
answers pass through one :class:`ServerDrift` before they leave: a set of
:class:`~seedream.testing._drift_cases.DriftCase` mutations applied together (a
change to the task object shows in the create answer and in every task
query alike, as a vendor's change of that object would), optionally a new
task id format (ids are rewritten on the way out and back on the way in,
so the drifted ids stay usable), or a valid body refused (every valid
generation answered 400). Served on 127.0.0.1 with
``run_simulator(app=DriftingApp(...))``, the real client and ``seedream
conformance --base-url`` both talk to it over HTTP.

:data:`KINDS` is the battery of the conformance detection test (one entry
per kind of drift the issue names) and :data:`ALLOWED` the changes no run
may flag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..simulator import SimulatorApp, SimulatorConfig
from ..simulator._clock import Clock
from ._drift_cases import CASES, Answer, DriftCase
from ._spec_cases import match_operation, response_example

__all__ = ["ALLOWED", "KINDS", "DriftingApp", "ServerDrift"]

TASK_PREFIX = "task-unified-"
CREATE, TASK = "createImageGeneration", "getTaskDetail"


@dataclass(frozen=True)
class ServerDrift:
    """One drift (or allowed change) of the whole server."""

    kind: str  # the row of the detection table
    name: str
    cases: tuple[DriftCase, ...] = ()
    drift: bool = True
    id_prefix: str | None = None  # task ids issued as id_prefix + the simulator's suffix
    #: What a detector must say: each group's words all in one finding (a deviation or a failure).
    expect: tuple[tuple[str, ...], ...] = ()


def _case(name: str) -> DriftCase:
    return next(c for c in CASES if c.name == name)


def _also_in_tasks(case: DriftCase, *task_statuses: str) -> tuple[DriftCase, ...]:
    """``case`` (a create-body change) and the same change to task bodies of these statuses."""
    return (case, *(DriftCase(case.name, TASK, 200, s, case.mutate, True, case.expect) for s in task_statuses))


def _refuse(body: Any) -> Any:
    return response_example(CREATE, 400)


_REFUSE_VALID = DriftCase("valid body refused with 400", CREATE, 200, None, _refuse, True, new_status=400)
_EVERY_STATUS = ("pending", "processing", "completed", "failed")


def _drop_progress(body: Any) -> Any:
    body.pop("progress", None)
    return body


KINDS: tuple[ServerDrift, ...] = (
    ServerDrift(
        "enum value",
        "task status completed -> succeeded",
        (_case("task status value renamed"),),
        expect=(("/status", "unknown-enum"),),
    ),
    ServerDrift(
        "enum value (create only)",
        "create status pending -> queued",
        (_case("create status value renamed"),),
        expect=(("/status", "unknown-enum"),),
    ),
    ServerDrift("id shape", "task ids img_…", id_prefix="img_", expect=(("unusable-answer", "unusable task id"),)),
    ServerDrift(
        "create field renamed",
        "id -> task_id",
        _also_in_tasks(_case("create id renamed to task_id"), *_EVERY_STATUS),
        expect=(("unusable-answer", "without a task id"),),
    ),
    ServerDrift(
        "create field removed",
        "created removed",
        _also_in_tasks(_case("create created removed"), *_EVERY_STATUS),
        expect=(("/created", "missing"),),
    ),
    ServerDrift(
        "create field retyped",
        "created as ISO text",
        _also_in_tasks(_case("create created retyped to ISO text"), *_EVERY_STATUS),
        expect=(("/created", "wrong-type"),),
    ),
    ServerDrift(
        "task field renamed", "results -> images", (_case("task results renamed"),), expect=(("/results", "missing"),)
    ),
    ServerDrift(
        "task field removed",
        "progress removed",
        tuple(DriftCase("task progress removed", TASK, 200, s, _drop_progress, True) for s in _EVERY_STATUS),
        expect=(("/progress", "missing"),),
    ),
    ServerDrift(
        "task field retyped",
        "results as objects",
        (_case("task results retyped to objects"),),
        expect=(("/results/0", "wrong-type"),),
    ),
    ServerDrift(
        "error envelope",
        "400 envelope flattened, 401 type changed",
        (_case("error envelope flattened"), _case("error type value changed")),
        expect=(("/error", "missing"), ("/error/type", "unknown-enum")),
    ),
    ServerDrift(
        "content type",
        "task answers as text/plain",
        tuple(
            DriftCase("task content type changed", TASK, 200, s, lambda b: b, True, content_type="text/plain")
            for s in _EVERY_STATUS
        ),
        expect=(("content-type", "application/json"),),
    ),
    ServerDrift(
        "valid body refused",
        "every valid generation answered 400",
        (_REFUSE_VALID,),
        expect=(("valid-body-refused", "400"),),
    ),
)

ALLOWED: tuple[ServerDrift, ...] = tuple(
    ServerDrift("allowed", case.name, (case,), drift=False)
    for case in CASES
    # Left out: a cancelled task needs a cancellation the simulator cannot be asked for; an id with
    # "." the docs allow but the client's stricter id shape refuses (issue 12: the client monitor's side).
    if not case.drift and case.name not in {"cancelled task status", "another id suffix"}
)


@dataclass
class _Captured:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


class DriftingApp(SimulatorApp):
    """The simulator, with ``drift`` applied to its API answers (``drifted`` counts the answers changed)."""

    def __init__(
        self, drift: ServerDrift, config: SimulatorConfig | None = None, *, clock: Clock | None = None
    ) -> None:
        super().__init__(config, clock=clock)
        self.drift = drift
        self.drifted = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/v1/"):
            await super().__call__(scope, receive, send)
            return
        prefix = self.drift.id_prefix
        path = str(scope["path"])
        if prefix and path.startswith("/v1/tasks/" + prefix):
            path = "/v1/tasks/" + TASK_PREFIX + path.removeprefix("/v1/tasks/" + prefix)
            scope = {**scope, "path": path, "raw_path": path.encode()}
        found = match_operation(str(scope["method"]), path)
        captured = _Captured()

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                captured.status = int(message["status"])
                captured.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured.body += message.get("body", b"")

        await super().__call__(scope, receive, capture)
        status, body, headers = captured.status, bytes(captured.body), captured.headers
        if found is not None:
            status, body, content_type = self._apply(found[0], status, body, _header(headers, b"content-type"))
            headers = [(k, v) for k, v in headers if k.lower() not in (b"content-type", b"content-length")]
            headers += [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _apply(self, operation: str, status: int, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        try:
            data = json.loads(body)
        except ValueError:
            return status, body, content_type
        changed = False
        prefix = self.drift.id_prefix
        if prefix and isinstance(data, dict) and str(data.get("id", "")).startswith(TASK_PREFIX):
            data["id"] = prefix + str(data["id"]).removeprefix(TASK_PREFIX)
            body, changed = json.dumps(data).encode(), True
        for case in self.drift.cases:
            if case.applies_to(operation, status, data):
                answer = case.apply(Answer(status, body, content_type))
                status, body, content_type, changed = answer.status, answer.body, answer.content_type, True
                break
        self.drifted += changed
        return status, body, content_type


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), "")
