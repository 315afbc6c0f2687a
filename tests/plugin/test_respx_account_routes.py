"""seedream_respx answers the batch query, the task list, the balance and Idempotency-Key replays."""

from __future__ import annotations

import httpx

from seedream.testing._fixtures import DEFAULT_API_KEY, RESPX_BASE_URL, mock_api
from seedream.testing._spec_cases import request_problems

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
BODY = {"model": "doubao-seedream-5.0-lite", "prompt": "a lake"}
KEY = "run_" + "ab" * 16


def test_batch_polls_each_known_task_once_and_leaves_unknown_ids_out() -> None:
    with mock_api({"polls": 1}) as api, httpx.Client(base_url=RESPX_BASE_URL, headers=AUTH) as client:
        ids = [client.post("/v1/images/generations", json=BODY).json()["id"] for _ in range(2)]
        first = client.post("/v1/tasks/batch", json={"task_ids": [*ids, "task-unified-1-nope"]})
        second = client.post("/v1/tasks/batch", json={"task_ids": ids})
        assert [t["status"] for t in first.json()["data"]] == ["processing", "processing"]
        assert [t["status"] for t in second.json()["data"]] == ["completed", "completed"]
        assert request_problems(api.router.routes["seedream_batch"].calls.last.request) == []
        assert client.post("/v1/tasks/batch", json={"task_ids": ["x"] * 51}).status_code == 400


def test_list_and_credits_answer_per_the_spec() -> None:
    with mock_api({}), httpx.Client(base_url=RESPX_BASE_URL, headers=AUTH) as client:
        ids = [client.post("/v1/images/generations", json=BODY).json()["id"] for _ in range(3)]
        page = client.get("/v1/tasks", params={"page": 1, "page_size": 2}).json()
        assert page["total"] == 3 and [t["id"] for t in page["data"]] == [ids[2], ids[1]]
        assert client.get("/v1/credits").json()["data"]["user"]["remaining_credits"] >= 0
        assert client.get("/v1/credits", headers={"Authorization": "Bearer other"}).status_code == 401


def test_a_repeated_key_replays_and_another_body_under_it_conflicts() -> None:
    with mock_api({}) as api, httpx.Client(base_url=RESPX_BASE_URL, headers=AUTH) as client:
        headers = {"Idempotency-Key": KEY}
        first = client.post("/v1/images/generations", json=BODY, headers=headers)
        again = client.post("/v1/images/generations", json=BODY, headers=headers)
        other = client.post("/v1/images/generations", json={**BODY, "prompt": "a sea"}, headers=headers)
        assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
        assert other.status_code == 409 and len(api.tasks) == 1
