"""Layer 3, stateful: schemathesis' stateful phase chains create → get by the spec's OpenAPI link.

The bundled spec links ``createImageGeneration``'s 200 to ``getTaskDetail``
(``task_id: $response.body#/id``), so the phase queries the very task it
created. Every step is judged by schemathesis' checks and by
:func:`seedream._expectations.check_body` (the expectations profile); each
deviation is a row of the summary.

Live, every step passes the session's :class:`SpendGuard` before it is sent:
a create the guard refuses (zero-spend, or ``--allow-spend`` used up) is not
sent and its scenario is dropped (``hypothesis.assume``), so the phase can
never buy more than the cap. Generations ask for one image and fetch nothing,
as in the server layer. Without spend left (zero-spend live mode) the phase
is skipped: every scenario starts from a create.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, settings
from hypothesis.errors import Unsatisfiable

from seedream import _rules
from seedream._expectations import check_body
from seedream.conformance.test_server_layer import SpendGuard, _examples, _live_post_body

CREATE = "POST /v1/images/generations"
GET = "GET /v1/tasks/{task_id}"
OPERATIONS = {CREATE: "createImageGeneration", GET: "getTaskDetail"}


def _content_type(response: Any) -> str | None:
    value = response.headers.get("content-type")
    if isinstance(value, list):  # schemathesis' responses keep every value of a header
        return str(value[0]) if value else None
    return None if value is None else str(value)


def test_stateful_phase_chains_create_then_get_and_every_step_conforms(
    server_target: Any, schema: Any, guard: SpendGuard, conformance_results: Any, request: pytest.FixtureRequest
) -> None:
    from schemathesis.core.failures import FailureGroup

    if server_target.live:
        # Offline only for now: run from an installed copy against a stand-in, the live phase created more tasks
        # than the spend cap allowed (16 with --allow-spend 3): some of schemathesis' checks send requests of their
        # own that never pass the guard. Until every request of the phase provably passes it, no live spend here.
        pytest.skip("the stateful phase runs offline only: its live requests are not all bounded by the spend guard")
    if guard.budget != -1 and guard.billable_sent >= guard.budget:
        pytest.skip("no spend left for the stateful phase: each scenario starts with a generation (--allow-spend N)")
    auth = {"Authorization": f"Bearer {server_target.api_key}"}
    layer = f"3 stateful ({server_target.kind})"
    created: set[str] = set()
    chained: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    deviations: list[str] = []

    # The phase is about the linked pair: the free reads (batch, list, balance) answer from state that grows across
    # examples, which would make hypothesis' replay of an example draw differently; layer 3 covers them.
    linked = schema.include(operation_id=["createImageGeneration", "getTaskDetail"])

    class Machine(linked.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            if case.method.upper() == "POST" and server_target.live:
                case.body = _live_post_body(case.body)
                # a prose-rule breach is not sent live: the server's answer to it is not ours to judge
                assume(not (isinstance(case.body, dict) and _rules.check_request(case.body)))
            if case.method.upper() == "POST" and case.path == "/v1/images/generations":
                # A fresh key per POST, as the client sends: a generated key hypothesis repeats in another example
                # would make the server replay an answer from outside this example (a flaky state machine).
                case.headers = {**(case.headers or {}), "Idempotency-Key": f"run_{uuid.uuid4().hex}"}
            headers = {**auth, **(case.headers or {})}
            billable = guard.could_be_billed(case.method, case.path, headers, case.body)
            assume(guard.admit(case.method, case.path, headers, case.body))  # the cap bounds the phase
            response = super().call(case, **kwargs)
            guard.observe(case.method, headers, case.body, billable, response.status_code, path=case.path)
            return response

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            # The key as a per-call header (what schemathesis' auth checks take away to probe ignored auth); the
            # auth provider registered for the embedded simulator does not know a live server's key.
            return {"headers": auth} if server_target.live else {}

        def step(self, input: Any) -> Any:
            label = input.case.operation.label
            try:
                output = super().step(input)  # calls, then runs every schemathesis check
            except FailureGroup:
                conformance_results.record(layer, OPERATIONS[label], "stateful step: schemathesis checks", False)
                raise
            conformance_results.record(layer, OPERATIONS[label], "stateful step: schemathesis checks", True)
            steps[label] += 1
            response = output.response
            found = check_body(
                OPERATIONS[label], response.status_code, response.content, content_type=_content_type(response)
            )
            for deviation in found:
                conformance_results.add_deviation(f"stateful {label}", deviation)
                where = deviation.pointer or "(answer)"
                conformance_results.record(layer, deviation.operation, f"{deviation.kind} at {where}", False)
                deviations.append(f"{label} {where}: {deviation.kind} (got {deviation.example})")
            if label == CREATE and response.status_code == 200:
                created.add(str(response.json().get("id")))
            elif label == GET and input.is_applied and input.case.path_parameters.get("task_id") in created:
                chained[str(response.json().get("status")) if response.status_code == 200 else "error"] += 1
            return output

    ended_at_cap = False
    try:
        Machine.run(
            settings=settings(
                max_examples=_examples(request.config, server_target),
                stateful_step_count=4,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],  # no shrinking: a live run's requests stay bounded
                suppress_health_check=list(HealthCheck),
            )
        )
    except Unsatisfiable:
        # Live, the cap ends the phase: once it is spent every scenario (each starts with a generation) is
        # refused by the guard, and hypothesis calls that unsatisfiable. Anything else is a real failure.
        if not (guard.budget != -1 and guard.billable_sent >= guard.budget and steps[CREATE] > 0):
            raise
        ended_at_cap = True
        conformance_results.notes.append(f"stateful ({server_target.kind}): ended at the spend cap")
    conformance_results.notes.append(
        f"stateful ({server_target.kind}): steps {dict(steps)}; linked queries of created tasks by status "
        f"{dict(chained)}"
    )
    assert deviations == [], "\n".join(deviations)
    assert steps[CREATE] > 0, steps
    if ended_at_cap and not steps[GET]:
        # A small budget can run out before hypothesis chains a query; offline (no cap) the chain is required.
        conformance_results.notes.append(f"stateful ({server_target.kind}): the cap ran out before a linked query")
        return
    assert steps[GET] > 0, steps
    assert sum(chained.values()) > 0, f"no linked query reached a created task: {dict(steps)}"
