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

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, settings

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

    if guard.budget != -1 and guard.billable_sent >= guard.budget:
        pytest.skip("no spend left for the stateful phase: each scenario starts with a generation (--allow-spend N)")
    auth = {"Authorization": f"Bearer {server_target.api_key}"}
    layer = f"3 stateful ({server_target.kind})"
    created: set[str] = set()
    chained: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    deviations: list[str] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            if case.method.upper() == "POST" and server_target.live:
                case.body = _live_post_body(case.body)
                # a prose-rule breach is not sent live: the server's answer to it is not ours to judge
                assume(not (isinstance(case.body, dict) and _rules.check_request(case.body)))
            headers = {**auth, **(case.headers or {})}
            billable = guard.could_be_billed(case.method, case.path, headers, case.body)
            assume(guard.admit(case.method, case.path, headers, case.body))  # the cap bounds the phase
            response = super().call(case, **kwargs)
            guard.observe(case.method, headers, case.body, billable, response.status_code)
            return response

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
    conformance_results.notes.append(
        f"stateful ({server_target.kind}): steps {dict(steps)}; linked queries of created tasks by status "
        f"{dict(chained)}"
    )
    assert deviations == [], "\n".join(deviations)
    assert steps[CREATE] > 0 and steps[GET] > 0, steps
    assert sum(chained.values()) > 0, f"no linked query reached a created task: {dict(steps)}"
