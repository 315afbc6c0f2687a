"""A task's life as GET shows it, the POST's answer, and the errors both routes give."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from seedream import _rules
from seedream.simulator import ManualClock, SimulatorApp

from .helpers import assert_matches_spec, body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/images/generations", json=body(**fields))
    assert response.status_code == 200, response.text
    return assert_matches_spec("createImageGeneration", response)


async def _task(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/tasks/{task_id}")
    assert response.status_code == 200, response.text
    return assert_matches_spec("getTaskDetail", response)


async def test_post_answers_a_pending_task_with_estimate_and_credits_reserved_for_n(
    make_app: Make, client_for: ClientFor
) -> None:
    client = client_for(make_app())
    created = await _create(client, n=3, size="4:3", quality="2K")
    assert created["id"].startswith(f"task-unified-{created['created']}-")
    assert (created["status"], created["progress"], created["object"], created["type"]) == (
        "pending",
        0,
        "image.generation.task",
        "image",
    )
    assert created["task_info"]["can_cancel"] is True
    assert created["task_info"]["estimated_time"] > 0
    assert created["usage"] == {
        "billing_rule": "per_call",
        "credits_reserved": pytest.approx(5.4),
        "user_group": "default",
    }


async def test_task_moves_pending_processing_completed_with_rising_progress(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    client = client_for(make_app())
    task_id = (await _create(client, n=2))["id"]
    seen: list[tuple[str, int]] = []
    for _ in range(400):
        task = await _task(client, task_id)
        seen.append((task["status"], task["progress"]))
        if task["status"] == "completed":
            break
        clock.advance(0.25)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "pending" and statuses[-1] == "completed"
    assert statuses == sorted(statuses, key=["pending", "processing", "completed"].index)
    processing = [progress for status, progress in seen if status == "processing"]
    assert len(set(processing)) > 5, "progress should rise step by step while processing"
    assert processing == sorted(processing) and processing[0] > 0 and processing[-1] < 100
    assert seen[-1][1] == 100
    assert len(task["results"]) == 2
    assert task["task_info"]["can_cancel"] is False and "error" not in task


async def test_duration_marker_ends_the_task_exactly_then(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    client = client_for(make_app())
    task_id = (await _create(client, prompt="a fox [sim:duration=7]"))["id"]
    clock.advance(6.99)
    assert (await _task(client, task_id))["status"] in ("pending", "processing")
    clock.advance(0.01)
    assert (await _task(client, task_id))["status"] == "completed"


@pytest.mark.parametrize("code", sorted(_rules.TASK_FAILURE_CODES))
async def test_fail_marker_fails_the_task_with_that_vendor_code(
    make_app: Make, client_for: ClientFor, clock: ManualClock, code: str
) -> None:
    client = client_for(make_app())
    task_id = (await _create(client, prompt=f"a fox [sim:fail={code}] [sim:duration=5]"))["id"]
    clock.advance(4.9)
    assert (await _task(client, task_id))["status"] != "failed"
    clock.advance(0.1)
    task = await _task(client, task_id)
    assert task["status"] == "failed"
    assert task["error"]["code"] == code and task["error"]["message"]
    assert "results" not in task


async def test_fail_marker_with_a_code_outside_the_table_passes_it_through(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    client = client_for(make_app())
    task_id = (await _create(client, prompt="[sim:fail=brand_new_code]"))["id"]
    clock.advance(3600)
    task = await _task(client, task_id)
    assert task["error"]["code"] == "brand_new_code"


async def test_task_failure_rate_one_fails_every_task_with_a_retryable_server_code(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    client = client_for(make_app(task_failure_rate=1.0))
    ids = [(await _create(client))["id"] for _ in range(6)]
    clock.advance(3600)
    for task_id in ids:
        task = await _task(client, task_id)
        assert task["status"] == "failed"
        assert _rules.is_retryable_task_code(task["error"]["code"])
        assert task["error"]["code"] in _rules.TASK_FAILURE_CODES
        assert 0 < task["progress"] < 100


async def test_extra_json_fields_and_unknown_headers_are_accepted(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app())
    response = await client.post(
        "/v1/images/generations",
        json=body(seed=42, watermark=False, model_params={"output_format": "png", "style": "x"}),
        headers={"x-request-id": "abc", "x-stainless-lang": "python", "idempotency-key": "k1"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"prompt": None}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"model": "doubao-seedream-4.0"}, "model"),
        ({"n": 0}, "n"),
        ({"n": 16}, "n"),
        ({"n": True}, "n"),
        ({"size": "huge"}, "size"),
        ({"size": "1000x1000"}, "size"),  # pixel range: the rule module
        ({"size": "8000x460"}, "size"),  # aspect ratio > 16: the rule module
        ({"quality": "4K"}, "quality"),
        ({"image_urls": ["not a url"]}, "image_urls[0]"),
        ({"image_urls": [f"https://example.com/{i}.png" for i in range(15)]}, "image_urls"),
        ({"image_urls": [f"https://example.com/{i}.png" for i in range(10)], "n": 6}, "n"),  # refs + n > 15
        ({"model_params": {"output_format": "gif"}}, "model_params.output_format"),
        ({"model_params": {"tools": [{"type": "image_search"}]}}, "model_params.tools[0].type"),
        ({"callback_url": "http://example.com/hook"}, "callback_url"),
        ({"prompt_priority": "fast"}, "prompt_priority"),
    ],
)
async def test_invalid_body_gets_400_envelope_naming_the_parameter(
    make_app: Make, client_for: ClientFor, fields: dict[str, Any], param: str
) -> None:
    client = client_for(make_app())
    request = body(**fields)
    if fields.get("prompt", "") is None:
        del request["prompt"]
    response = await client.post("/v1/images/generations", json=request)
    error = assert_matches_spec("createImageGeneration", response)["error"]
    assert response.status_code == 400
    assert (error["code"], error["type"], error["param"]) == ("invalid_request", "invalid_request_error", param)
    assert error["message"].startswith(param)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'"text"', b'{"model": NaN}', b"\xff\xfe{}", b"[" * 100_000],
)
async def test_body_that_is_not_a_json_object_gets_400(make_app: Make, client_for: ClientFor, raw: bytes) -> None:
    client = client_for(make_app())
    response = await client.post("/v1/images/generations", content=raw, headers={"content-type": "application/json"})
    error = assert_matches_spec("createImageGeneration", response)["error"]
    assert response.status_code == 400 and error["code"] == "invalid_request"
    assert "request body" in error["message"]


async def test_oversized_body_gets_413_envelope(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app(max_body_bytes=1000))
    response = await client.post("/v1/images/generations", json=body(prompt="x" * 1500))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


async def test_internal_callback_host_is_refused_unless_loopback_is_allowed(
    make_app: Make, client_for: ClientFor
) -> None:
    strict = client_for(make_app(allow_loopback=False))
    response = await strict.post("/v1/images/generations", json=body(callback_url="https://127.0.0.1:9/hook"))
    assert response.status_code == 400 and response.json()["error"]["param"] == "callback_url"
    relaxed = client_for(make_app(allow_loopback=True, outbound="none"))
    response = await relaxed.post("/v1/images/generations", json=body(callback_url="https://127.0.0.1:9/hook"))
    assert response.status_code == 200


@pytest.mark.parametrize("task_id", ["abc", "task-1757165031-x", "TASK-UNIFIED-1-x", ""])
async def test_task_id_without_the_prefix_gets_400_invalid_task_id(
    make_app: Make, client_for: ClientFor, task_id: str
) -> None:
    client = client_for(make_app())
    response = await client.get(f"/v1/tasks/{task_id}")
    error = assert_matches_spec("getTaskDetail", response)["error"]
    assert response.status_code == 400
    assert (error["code"], error["param"]) == ("invalid_task_id", "task_id")


async def test_unknown_task_id_gets_404_resource_not_found(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app())
    response = await client.get("/v1/tasks/task-unified-1757165031-nosuchid")
    error = assert_matches_spec("getTaskDetail", response)["error"]
    assert response.status_code == 404 and error["code"] == "resource_not_found"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/images/generations", 405),
        ("DELETE", "/v1/tasks/task-unified-1-x", 405),
        ("POST", "/v1/tasks/task-unified-1-x", 405),
        ("GET", "/v1/nothing", 404),
        ("GET", "/v1/task", 404),
        ("GET", "/v1/tasks/batch", 405),
        ("POST", "/v1/credits", 405),
    ],
)
async def test_unknown_routes_and_methods_get_the_error_envelope(
    make_app: Make, client_for: ClientFor, method: str, path: str, status: int
) -> None:
    client = client_for(make_app())
    response = await client.request(method, path)
    assert response.status_code == status
    assert set(response.json()["error"]) >= {"code", "message", "type"}
    if status == 405:
        assert response.headers["allow"] in ("POST", "GET, HEAD")


async def test_simulator_serves_its_spec_and_health_without_auth(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app(), headers={})
    spec = (await client.get("/__simulator__/openapi.json")).json()
    assert set(spec["paths"]) == {
        "/v1/images/generations",
        "/v1/tasks/{task_id}",
        "/v1/tasks/batch",
        "/v1/tasks",
        "/v1/credits",
    }
    assert (await client.get("/__simulator__/health")).json() == {"status": "ok"}
