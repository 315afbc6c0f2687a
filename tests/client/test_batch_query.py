"""``batch_query_tasks``: ids checked as ``get_task`` checks one, at most 50; answers read as task answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from seedream import APIStatusError, AsyncSeedreamAPI, RequestValidationError, SeedreamAPI, UnexpectedResponseError
from seedream._drift import BATCH

from .helpers import BASE_URL, SENTINEL_KEY, TASK_BODY, json_response

ID_A = "task-unified-1757165031-aaaa"
ID_B = "task-unified-1757165031-bbbb"


def detail(task_id: str, **fields: Any) -> dict[str, Any]:
    return {**TASK_BODY, "id": task_id, **fields}


def client(answer: Any, seen: list[httpx.Request] | None = None) -> SeedreamAPI:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answer if isinstance(answer, httpx.Response) else json_response(200, answer)

    return SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler))


def test_one_post_asks_about_every_id_once_and_reports_the_ones_left_out() -> None:
    seen: list[httpx.Request] = []
    with client({"data": [detail(ID_B, status="completed")]}, seen) as api:
        batch = api.batch_query_tasks([ID_A, ID_B, ID_A])

    assert [r.method + " " + r.url.path for r in seen] == ["POST /v1/tasks/batch"]
    assert json.loads(seen[0].content) == {"task_ids": [ID_A, ID_B]}
    assert seen[0].headers["authorization"] == f"Bearer {SENTINEL_KEY}"
    assert list(batch.tasks) == [ID_B] and str(batch.tasks[ID_B].status) == "completed"
    assert batch.missing == (ID_A,)


@pytest.mark.parametrize(
    ("ids", "field", "rule"),
    [
        ([f"task-unified-{i}" for i in range(51)], "task_ids", "at most 50 ids"),
        ([ID_A, ""], "task_ids[1]", "non-empty string"),
        ([ID_A, 7], "task_ids[1]", "non-empty string"),
        (ID_A, "task_ids", "not one string"),
        ([], "task_ids", "at least one"),
    ],
)
def test_bad_ids_are_refused_before_anything_is_sent(ids: Any, field: str, rule: str) -> None:
    seen: list[httpx.Request] = []
    with client({"data": []}, seen) as api, pytest.raises(RequestValidationError) as caught:
        api.batch_query_tasks(ids)

    assert caught.value.field == field and rule in str(caught.value)
    assert seen == []


def test_an_answer_about_a_task_not_asked_for_is_refused() -> None:
    with client({"data": [detail(ID_A), detail(ID_B)]}) as api, pytest.raises(UnexpectedResponseError) as caught:
        api.batch_query_tasks([ID_A])

    assert "not asked for" in str(caught.value)


def test_an_answer_repeating_a_task_is_refused() -> None:
    answer = {"data": [detail(ID_A), detail(ID_A, status="failed")]}
    with client(answer) as api, pytest.raises(UnexpectedResponseError, match="repeats task"):
        api.batch_query_tasks([ID_A])


@pytest.mark.parametrize("body", [{"data": {"id": ID_A}}, {"tasks": []}, {"data": ["x"]}])
def test_an_answer_without_a_list_of_task_objects_is_unusable(body: Any) -> None:
    with client(body) as api, pytest.raises(UnexpectedResponseError, match=r"body\.data"):
        api.batch_query_tasks([ID_A])


def test_an_item_is_read_through_the_task_answer_path_and_drift_is_recorded() -> None:
    with client({"data": [detail(ID_A, status="queued", progress=5.0)]}) as api:
        batch = api.batch_query_tasks([ID_A])
        assert api.drift_monitor is not None
        drift = api.drift_monitor.records()

    task = batch.tasks[ID_A]
    assert task.progress == 5 and str(task.status) == "queued"  # tolerant as get_task: an open enum
    assert any(r.operation == BATCH and r.pointer.endswith("/status") for r in drift)


def test_an_item_of_the_wrong_shape_is_refused_as_a_task_answer_would_be() -> None:
    with client({"data": [detail(ID_A, progress="half")]}) as api, pytest.raises(UnexpectedResponseError) as caught:
        api.batch_query_tasks([ID_A])

    assert "body.progress should be an integer" in str(caught.value)


def test_the_async_twin_sends_the_same_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {"data": [detail(ID_A)]})

    async def main() -> tuple[str, ...]:
        async with AsyncSeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=httpx.MockTransport(handler)) as api:
            batch = await api.batch_query_tasks((ID_A, ID_B), timeout=5)
            return (*batch.tasks, *batch.missing)

    assert asyncio.run(main()) == (ID_A, ID_B)
    assert json.loads(seen[0].content) == {"task_ids": [ID_A, ID_B]}


def test_a_404_from_a_gateway_without_the_endpoint_is_an_api_error() -> None:
    answer = json_response(404, {"error": {"code": "not_found", "message": "no route", "type": "not_found_error"}})
    with client(answer) as api, pytest.raises(APIStatusError) as caught:
        api.batch_query_tasks([ID_A])

    assert caught.value.status == 404  # what the high-level client reads as "no batch endpoint here"
