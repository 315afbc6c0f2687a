"""schemathesis' stateful phase against the simulator: create → get chained by the spec's OpenAPI link.

The overlay gives ``createImageGeneration``'s 200 a link to ``getTaskDetail``
(``task_id: $response.body#/id``). At ``time_scale=1e-6`` a 45-second task
finishes in 45 µs, so a chained query sees the task completed (or failed) and
its final body is checked against the spec like every other answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from seedream import _spec
from seedream.simulator import SimulatorConfig, create_app
from seedream.testing._schemathesis import load_schema

# Keys ignored: hypothesis reuses generated Idempotency-Key values across examples, and a key remembered from
# an earlier example (409 for another body) would make one example's answers depend on the last one's.
CONFIG = SimulatorConfig(api_keys=("sk-test",), seed=0, time_scale=1e-6, outbound="none", honour_idempotency_keys=False)
CREATE = "POST /v1/images/generations"
GET = "GET /v1/tasks/{task_id}"


def test_the_bundled_spec_links_create_to_get_by_the_created_id() -> None:
    link = _spec.load_spec()["paths"]["/v1/images/generations"]["post"]["responses"]["200"]["links"]["GetTaskDetail"]
    assert link["operationId"] == "getTaskDetail"
    assert link["parameters"] == {"task_id": "$response.body#/id"}


@pytest.fixture
def app() -> Iterator[Any]:
    app = create_app(CONFIG)
    yield app
    app.close()


def test_stateful_phase_chains_create_then_get_and_every_step_conforms(app: Any) -> None:
    # The linked pair only: with the free reads (batch, list, balance) in the mix, 40 examples once chained
    # as few as 5 create→get pairs.
    schema = load_schema(app=app).include(operation_id=["createImageGeneration", "getTaskDetail"])
    created: set[str] = set()
    chained: Counter[str] = Counter()  # final status of each linked query that found its task
    steps: Counter[str] = Counter()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:
            output = super().step(input)  # calls, then runs every check (raises on a failure)
            label = input.case.operation.label
            steps[label] += 1
            response = output.response
            if label == CREATE and response.status_code == 200:
                created.add(response.json()["id"])
            elif (
                label == GET
                and input.transition is not None
                and input.is_applied
                and input.case.path_parameters["task_id"] in created
                and response.status_code == 200
            ):
                chained[response.json()["status"]] += 1
            return output

    Machine.run(
        settings=settings(
            max_examples=60,
            stateful_step_count=4,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"stateful steps: {dict(steps)}; chained create→get by final status: {dict(chained)}")
    assert steps[CREATE] > 0 and steps[GET] > 0, steps
    assert sum(chained.values()) >= 10, chained
    # The time scale makes every chained query see a finished task, never one still running.
    assert set(chained) <= {"completed", "failed"} and chained["completed"] > 0, chained
