"""DriftingApp: the simulator with a whole-server drift, as the detection battery serves it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from seedream._expectations import check_response
from seedream.simulator import SimulatorConfig
from seedream.testing._drift_server import ALLOWED, KINDS, DriftingApp, ServerDrift

MODEL = "doubao-seedream-5.0-lite"


def _kind(name: str) -> ServerDrift:
    return next(k for k in KINDS if k.kind == name)


async def _exchange(drift: ServerDrift, *requests: tuple[str, str, Any]) -> list[httpx.Response]:
    app = DriftingApp(drift, SimulatorConfig.for_tests(time_scale=0.001))
    try:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": "Bearer sk-test"}
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test", headers=headers) as client:
            answers = []
            for method, path, body in requests:
                path = path.format(id=answers[-1].json()["id"]) if answers else path
                answers.append(await client.request(method, path, json=body))
            return answers
    finally:
        app.close()


def test_a_new_id_format_is_issued_and_the_drifted_id_can_be_queried() -> None:
    created, task = asyncio.run(
        _exchange(
            _kind("id shape"),
            ("POST", "/v1/images/generations", {"model": MODEL, "prompt": "a"}),
            ("GET", "/v1/tasks/{id}", None),
        )
    )
    assert created.json()["id"].startswith("img_")
    assert task.status_code == 200 and task.json()["id"] == created.json()["id"]
    assert ("/id", "bad-shape") in {(d.pointer, d.kind) for d in check_response("getTaskDetail", task)}


def test_a_valid_body_is_refused_with_the_documented_400() -> None:
    (refused,) = asyncio.run(
        _exchange(_kind("valid body refused"), ("POST", "/v1/images/generations", {"model": MODEL, "prompt": "a"}))
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request"
    assert check_response("createImageGeneration", refused) == []  # only the refusal itself is the drift


def test_a_create_body_drift_shows_in_task_queries_too() -> None:
    created, task = asyncio.run(
        _exchange(
            _kind("create field removed"),
            ("POST", "/v1/images/generations", {"model": MODEL, "prompt": "a"}),
            ("GET", "/v1/tasks/{id}", None),
        )
    )
    for operation, answer in (("createImageGeneration", created), ("getTaskDetail", task)):
        assert ("/created", "missing") in {(d.pointer, d.kind) for d in check_response(operation, answer)}


def test_the_battery_has_twelve_kinds_each_naming_what_a_detector_must_say() -> None:
    assert len({k.kind for k in KINDS}) == 12 and all(k.drift and k.expect for k in KINDS)
    assert ALLOWED and not any(a.drift for a in ALLOWED)
