"""The drift battery applied to the simulator's real answers at run time: check_response sees every drift.

Each case drifts the answers it applies to through ``DriftingTransport``
around the simulator's ASGI app; a short scenario makes the simulator give
that answer (a created task, a completed, processing or failed task, a 400,
a 401, an injected 429 or 500). Allowed changes must stay unflagged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from seedream._expectations import check_response
from seedream.simulator import ManualClock, SimulatorConfig, create_app
from seedream.testing._drift_cases import CASES, DriftCase, DriftingTransport

MODEL = "doubao-seedream-5.0-lite"
PROMPT = {"completed": "[sim:duration=1]", "processing": "[sim:duration=1000]", "failed": "[sim:fail=service_error]"}


async def _answer(case: DriftCase) -> tuple[httpx.Response, int]:
    """The (drifted) answer of the scenario that makes the simulator give ``case``'s answer; and how many drifted."""
    faults: dict[str, float] = {}
    if case.status == 429:
        faults = {"fault_429": 1.0}
    elif case.status == 500:
        faults = {"fault_5xx": 1.0}
    clock = ManualClock()
    app = create_app(SimulatorConfig.for_tests(time_scale=1.0, **faults), clock=clock)
    transport = DriftingTransport(httpx.ASGITransport(app=app), case)
    headers = {"Authorization": "Bearer " + ("wrong-key" if case.status == 401 else "sk-test")}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test", headers=headers) as client:
            if case.operation == "createImageGeneration":
                body: dict[str, Any] = {"model": MODEL} if case.status == 400 else {"model": MODEL, "prompt": "a"}
                for _ in range(20):  # injected 5xx faults vary their status: take the first 500
                    response = await client.post("/v1/images/generations", json=body)
                    if response.status_code == case.status or case.status != 500:
                        break
                return response, transport.drifted
            if case.status != 200:
                return await client.get("/v1/tasks/task-unified-1757165031-abcdefgh"), transport.drifted
            created = await client.post(
                "/v1/images/generations", json={"model": MODEL, "prompt": PROMPT[str(case.task_status)]}
            )
            clock.advance(100 if case.task_status != "processing" else 10)
            return await client.get(f"/v1/tasks/{created.json()['id']}"), transport.drifted
    finally:
        app.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_applied_to_the_simulator_is_detected_or_allowed(case: DriftCase) -> None:
    response, drifted = asyncio.run(_answer(case))
    assert drifted == 1, f"the scenario never produced the answer {case.name!r} drifts"
    found = check_response(case.operation, response)
    if case.drift:
        assert {(d.pointer, d.kind) for d in found} >= set(case.expect), found
    else:
        assert found == []
