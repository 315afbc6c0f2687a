"""Under a seed, the same request sequence gets the same ids, timings, failures, faults and image bytes."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from seedream.simulator import ManualClock, SimulatorConfig, create_app

from .helpers import AUTH, body

pytestmark = pytest.mark.anyio

KNOBS: dict[str, Any] = {"fault_5xx": 0.2, "fault_429": 0.2, "fault_drop": 0.1, "task_failure_rate": 0.4}


def _seen(response: httpx.Response) -> tuple[int, Any]:
    is_json = response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json() if is_json else response.text


async def _transcript(seed: int | None) -> list[Any]:
    """Run a fixed script against a fresh simulator and write down everything observable."""
    clock = ManualClock()
    app = create_app(SimulatorConfig.for_tests(time_scale=1.0, seed=seed, **KNOBS), clock=clock)
    out: list[Any] = []
    ids: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim", headers=AUTH) as c:
        for i in range(12):
            try:
                response = await c.post("/v1/images/generations", json=body(n=1 + i % 3, size="21:9"))
            except httpx.RemoteProtocolError:
                out.append("dropped")
                continue
            out.append(_seen(response))
            if response.status_code == 200:
                ids.append(response.json()["id"])
        for step in (1.0, 5.0, 15.0, 60.0):
            clock.advance(step)
            for task_id in ids:
                try:
                    response = await c.get(f"/v1/tasks/{task_id}")
                except httpx.RemoteProtocolError:
                    out.append("dropped")
                    continue
                out.append(_seen(response))
                for link in response.json().get("results", []) if response.status_code == 200 else []:
                    out.append(hashlib.sha256((await c.get(link)).content).hexdigest())
    out.append(app.counters())
    app.close()
    return out


async def test_same_seed_same_transcript() -> None:
    first, second = await _transcript(7), await _transcript(7)
    assert first == second
    statuses = {entry[0] for entry in first if isinstance(entry, tuple)}
    assert {200, 429} <= statuses and "dropped" in first  # the script met faults, so they were compared too
    bodies = [entry[1] for entry in first if isinstance(entry, tuple) and entry[0] == 200]
    assert any(b.get("status") == "failed" for b in bodies) and any(b.get("status") == "completed" for b in bodies)


async def test_different_seeds_differ() -> None:
    assert await _transcript(7) != await _transcript(8)


async def test_no_seed_draws_fresh_ids() -> None:
    clock = ManualClock()
    ids = []
    for _ in range(2):
        app = create_app(SimulatorConfig.for_tests(seed=None), clock=clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s", headers=AUTH) as c:
            ids.append((await c.post("/v1/images/generations", json=body())).json()["id"])
        app.close()
    assert ids[0] != ids[1]
