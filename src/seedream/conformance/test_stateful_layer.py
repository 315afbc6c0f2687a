"""Layer 3, stateful: schemathesis' stateful phase chains create → get by the spec's OpenAPI link.

The bundled spec links ``createImageGeneration``'s 200 to ``getTaskDetail``
(``task_id: $response.body#/id``), so the phase queries the very task it
created. Every step is judged by schemathesis' checks and by
:func:`seedream._expectations.check_body` (the expectations profile); each
deviation is a row of the summary.

Every request of the phase passes the session's :class:`SpendGuard` on the
wire: the phase's schema reaches the server only through
:class:`~seedream.conformance._gateway.GuardedGateway` (its WSGI ``app``),
so the steps and every request schemathesis' checks send of their own (the
``ignored_auth`` probes, control requests) are admitted or refused as they
would leave, final headers and body included. A refused request is not sent
and its scenario is dropped (``hypothesis.assume``), so the phase can never
buy more than the cap. Generations ask for one image and fetch nothing, as in
the server layer. Without spend left (zero-spend live mode, or the cap used
by the layers before) the phase is skipped: every scenario starts from a
create.
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
from seedream.conformance._gateway import GuardedGateway, SpendRefused
from seedream.conformance.test_server_layer import SpendGuard, _examples, _live_post_body
from seedream.testing._schemathesis import load_schema

CREATE = "POST /v1/images/generations"
GET = "GET /v1/tasks/{task_id}"
OPERATIONS = {CREATE: "createImageGeneration", GET: "getTaskDetail"}


def _content_type(response: Any) -> str | None:
    value = response.headers.get("content-type")
    if isinstance(value, list):  # schemathesis' responses keep every value of a header
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _answered(target: Any) -> int | None:
    """API requests the simulator answered so far (offline; a live server tells nothing)."""
    if target.counters is None:
        return None
    return sum(sum(statuses.values()) for route, statuses in target.counters()["requests"].items() if " /v1/" in route)


def test_stateful_phase_chains_create_then_get_and_every_step_conforms(
    server_target: Any, guard: SpendGuard, conformance_results: Any, request: pytest.FixtureRequest
) -> None:
    from schemathesis.core.failures import FailureGroup

    left = guard.release()
    if left == 0:
        pytest.skip("no spend left for the stateful phase: each scenario starts with a generation (--allow-spend N)")
    layer = f"3 stateful ({server_target.kind})"
    created: set[str] = set()
    chained: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    deviations: list[str] = []

    # The phase is about the linked pair: the free reads (batch, list, balance) answer from state that grows across
    # examples, which would make hypothesis' replay of an example draw differently; layer 3 covers them.
    # A schema of its own (the server layer's keeps its transport and configuration).
    own = load_schema(base_url=server_target.base_url, api_key=server_target.api_key)
    # schemathesis would mine the app's Python module for literals to generate with: the gateway's are not the API's.
    own.config.analysis.constants.enabled = False
    linked = own.include(operation_id=["createImageGeneration", "getTaskDetail"])
    if server_target.kind == "asgi":
        gateway = GuardedGateway(guard, asgi_app=server_target.app)
    else:
        gateway = GuardedGateway(guard, origin=server_target.base_url)
    server_target.cleanups.append(gateway.close)
    linked.app = gateway  # the only way out: the steps and every request of every check

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
            return super().call(case, **kwargs)  # through the gateway: the guard judges what is sent

        def step(self, input: Any) -> Any:
            label = input.case.operation.label
            try:
                output = super().step(input)  # calls, then runs every schemathesis check
            except SpendRefused:
                assume(False)  # the step or a check's own request was not sent: this scenario ends here
                raise  # (not reached: assume raised)
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

    answered_before = _answered(server_target)
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
        f"{dict(chained)}; through the guard: {sum(gateway.sent.values())} requests sent, "
        f"{sum(gateway.refused.values())} refused ({dict(gateway.refused)})"
    )
    answered = _answered(server_target)
    if answered is not None and answered_before is not None:
        # Offline the server counts what it answered: nothing reached it but through the gateway.
        assert answered - answered_before == sum(gateway.sent.values()), (answered, answered_before, gateway.sent)
    assert deviations == [], "\n".join(deviations)
    assert steps[CREATE] > 0, steps
    if ended_at_cap and not steps[GET]:
        # A small budget can run out before hypothesis chains a query; offline (no cap) the chain is required.
        conformance_results.notes.append(f"stateful ({server_target.kind}): the cap ran out before a linked query")
        return
    assert steps[GET] > 0, steps
    assert sum(chained.values()) > 0, f"no linked query reached a created task: {dict(steps)}"
