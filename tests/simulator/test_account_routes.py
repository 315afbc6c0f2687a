"""Idempotency keys on the generation POST, the batch task query, the task list and the balance."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from seedream.simulator import ManualClock, SimulatorApp

from .helpers import assert_matches_spec, body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]
KEY = "run_" + "0123456789abcdef" * 2
CREATE = "/v1/images/generations"


async def _post(client: httpx.AsyncClient, key: str | None = KEY, **fields: object) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return await client.post(CREATE, json=body(**fields), headers=headers)


# -- idempotency ------------------------------------------------------------------------------


async def test_same_key_and_body_replays_the_original_answer_without_a_second_charge(
    make_app: Make, client_for: ClientFor
) -> None:
    app = make_app(credits=10.0)
    client = client_for(app)
    first = await _post(client)
    again = await _post(client)
    assert first.status_code == again.status_code == 200
    assert "idempotency-replayed" not in first.headers
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert_matches_spec("createImageGeneration", again)
    counters = app.counters()
    assert counters["tasks_created"] == 1
    assert counters["credits_charged"] == pytest.approx(1.8)
    assert counters["idempotency"]["replayed"] == 1


async def test_same_key_with_another_body_gets_409_idempotency_conflict(make_app: Make, client_for: ClientFor) -> None:
    app = make_app()
    client = client_for(app)
    assert (await _post(client, prompt="a red fox")).status_code == 200
    response = await _post(client, prompt="a blue fox")
    error = assert_matches_spec("createImageGeneration", response)["error"]
    assert response.status_code == 409
    assert (error["code"], error["param"]) == ("idempotency_conflict", "Idempotency-Key")
    assert app.counters()["tasks_created"] == 1


async def test_key_order_and_spacing_of_the_same_json_still_replay(make_app: Make, client_for: ClientFor) -> None:
    app = make_app()
    client = client_for(app)
    headers = {"Idempotency-Key": KEY, "Content-Type": "application/json"}
    one = b'{"model": "doubao-seedream-5.0-lite", "prompt": "a fox"}'
    two = b'{"prompt":"a fox","model":"doubao-seedream-5.0-lite"}'
    assert (await client.post(CREATE, content=one, headers=headers)).status_code == 200
    replay = await client.post(CREATE, content=two, headers=headers)
    assert replay.headers.get("idempotency-replayed") == "true"
    assert app.counters()["tasks_created"] == 1


async def test_a_key_is_forgotten_after_24_simulated_hours(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app()
    client = client_for(app)
    first = await _post(client)
    clock.advance(86_400 - 1)
    assert (await _post(client)).headers.get("idempotency-replayed") == "true"
    clock.advance(1)
    fresh = await _post(client)
    assert fresh.status_code == 200 and "idempotency-replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    assert app.counters()["tasks_created"] == 2


async def test_the_lifetime_is_simulated_time(make_app: Make, client_for: ClientFor, clock: ManualClock) -> None:
    app = make_app(time_scale=0.01)  # 24 simulated hours = 864 real seconds
    client = client_for(app)
    await _post(client)
    clock.advance(863)
    assert (await _post(client)).headers.get("idempotency-replayed") == "true"
    clock.advance(1)
    assert "idempotency-replayed" not in (await _post(client)).headers


async def test_ignoring_keys_creates_and_charges_every_post(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(honour_idempotency_keys=False)
    client = client_for(app)
    ids = {(await _post(client)).json()["id"] for _ in range(2)}
    other_body = await _post(client, prompt="something else")
    assert len(ids) == 2 and other_body.status_code == 200
    counters = app.counters()
    assert counters["tasks_created"] == 3 and counters["idempotency"] == {
        "conflicts": 0,
        "ignored": 3,
        "in_progress": 0,
        "replayed": 0,
    }
    assert counters["credits_charged"] == pytest.approx(3 * 1.8)


async def test_a_refused_post_does_not_use_up_its_key(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(credits=1.0)
    client = client_for(app)
    assert (await _post(client)).status_code == 402  # nothing created: the key is not remembered
    assert (await _post(client, prompt="another")).status_code == 402  # so no 409 either
    assert app.counters()["idempotency"]["conflicts"] == 0


async def test_keys_belong_to_the_api_key_that_sent_them(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(api_keys=("sk-test", "sk-other"))
    mine, theirs = client_for(app), client_for(app, headers={"Authorization": "Bearer sk-other"})
    assert (await _post(mine)).status_code == 200
    response = await _post(theirs, prompt="different")
    assert response.status_code == 200 and "idempotency-replayed" not in response.headers


async def test_posts_without_a_key_are_never_deduplicated(make_app: Make, client_for: ClientFor) -> None:
    app = make_app()
    client = client_for(app)
    for _ in range(2):
        assert (await _post(client, key=None)).status_code == 200
    assert app.counters()["tasks_created"] == 2


# -- batch query ------------------------------------------------------------------------------


async def test_batch_returns_known_tasks_in_order_and_leaves_unknown_ids_out(
    make_app: Make, client_for: ClientFor
) -> None:
    app = make_app()
    client = client_for(app)
    ids = [(await _post(client, key=None, prompt=f"p{i}")).json()["id"] for i in range(3)]
    asked = [ids[2], "task-unified-1-unknown", ids[0], "not-a-task-id", ids[2]]
    response = await client.post("/v1/tasks/batch", json={"task_ids": asked})
    data = assert_matches_spec("batchQueryTasks", response)["data"]
    assert [t["id"] for t in data] == [ids[2], ids[0]]
    single = (await client.get(f"/v1/tasks/{ids[0]}")).json()
    assert data[1] == single
    assert app.counters()["batch"] == {"ids_found": 2, "ids_requested": 5}
    assert app.counters()["requests"]["POST /v1/tasks/batch"] == {"200": 1}


@pytest.mark.parametrize(("count", "status"), [(0, 200), (50, 200), (51, 400)])
async def test_batch_takes_at_most_50_ids(make_app: Make, client_for: ClientFor, count: int, status: int) -> None:
    client = client_for(make_app())
    response = await client.post("/v1/tasks/batch", json={"task_ids": [f"task-unified-1-{i}" for i in range(count)]})
    assert response.status_code == status
    body = assert_matches_spec("batchQueryTasks", response)
    if status == 400:
        assert body["error"]["param"] == "task_ids" and "50" in body["error"]["message"]


@pytest.mark.parametrize("payload", [{}, {"task_ids": "task-unified-1-x"}, {"task_ids": [1]}, [], "x"])
async def test_batch_body_that_is_not_a_list_of_ids_gets_400_naming_task_ids(
    make_app: Make, client_for: ClientFor, payload: object
) -> None:
    response = await client_for(make_app()).post("/v1/tasks/batch", json=payload)
    error = assert_matches_spec("batchQueryTasks", response)["error"]
    assert response.status_code == 400 and error["param"] == "task_ids"


# -- task list --------------------------------------------------------------------------------


async def test_list_is_newest_first_paginated_and_filtered(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app()
    client = client_for(app)
    ids = []
    for i in range(5):
        ids.append((await _post(client, key=None, prompt=f"p{i}")).json()["id"])
        clock.advance(1)
    first = await client.get("/v1/tasks", params={"page": 1, "page_size": 2})
    page = assert_matches_spec("listTasks", first)
    assert [t["id"] for t in page["data"]] == [ids[4], ids[3]]
    assert (page["total"], page["page"], page["page_size"]) == (5, 1, 2)
    last = (await client.get("/v1/tasks", params={"page": 3, "page_size": 2})).json()
    assert [t["id"] for t in last["data"]] == [ids[0]]
    item = last["data"][0]
    assert "results" not in item and set(item) >= {"created_at", "credits_used", "has_results", "has_error"}
    clock.advance(3600)  # all done
    done = (await client.get("/v1/tasks", params={"status": "completed", "model": "doubao-seedream-5.0-lite"})).json()
    assert done["total"] == 5 and all(t["has_results"] and not t["has_error"] for t in done["data"])
    assert (await client.get("/v1/tasks", params={"status": "pending"})).json()["total"] == 0
    assert (await client.get("/v1/tasks", params={"model": "other"})).json()["total"] == 0
    assert (await client.get("/v1/tasks", params={"type": "video"})).json()["total"] == 0
    default = (await client.get("/v1/tasks")).json()
    assert (default["page"], default["page_size"]) == (1, 20)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "-1"}, "page_size"),
        ({"status": "archived"}, "status"),
        ({"type": "movie"}, "type"),
    ],
)
async def test_list_parameter_out_of_range_gets_400_naming_it(
    make_app: Make, client_for: ClientFor, params: dict[str, str], param: str
) -> None:
    response = await client_for(make_app()).get("/v1/tasks", params=params)
    error = assert_matches_spec("listTasks", response)["error"]
    assert response.status_code == 400 and error["param"] == param


LIST_CANDIDATES: list[tuple[str, object]] = [
    *((name, value) for name in ("page", "page_size") for value in (-1, 0, 1, 2, 20, 100, 101, 10**6)),
    *(("status", value) for value in ("pending", "processing", "completed", "failed", "cancelled", "queued", "")),
    *(("type", value) for value in ("image", "video", "audio", "text", "movie", "IMAGE")),
    ("model", "doubao-seedream-5.0-lite"),
    ("model", "another"),
]


async def test_the_client_and_the_simulator_judge_every_list_filter_by_the_same_rule(
    make_app: Make, client_for: ClientFor
) -> None:
    # One rule (seedream._spec.query_parameters) behind both: the client refuses exactly what the simulator
    # answers 400, and both state the same rule.
    from seedream._client import _query_value
    from seedream._errors import RequestValidationError

    client = client_for(make_app())
    refused = 0
    for name, value in LIST_CANDIDATES:
        try:
            _query_value(name, value)
            client_rule = None
        except RequestValidationError as error:
            client_rule = error.rule
        response = await client.get("/v1/tasks", params={name: str(value)})
        if client_rule is None:
            assert response.status_code == 200, (name, value, response.text)
            continue
        refused += 1
        message = assert_matches_spec("listTasks", response)["error"]["message"]
        assert response.status_code == 400 and message.startswith(f"{name}: "), (name, value, message)
        assert client_rule.startswith(f"must be {message.removeprefix(name + ': ')} "), (client_rule, message)
    assert refused == 10  # page -1, 0; page_size -1, 0, 101, 10**6; two statuses; two types


# -- balance ----------------------------------------------------------------------------------


async def test_balance_decreases_with_charges_and_replays_are_free(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(credits=10.0)
    client = client_for(app)
    before = assert_matches_spec("getCredits", await client.get("/v1/credits"))
    assert before["data"]["user"] == {"remaining_credits": 10.0, "used_credits": 0.0}
    await _post(client, n=2)
    await _post(client, n=2)  # replay
    after = (await client.get("/v1/credits")).json()["data"]
    assert after["user"] == {"remaining_credits": pytest.approx(6.4), "used_credits": pytest.approx(3.6)}
    assert after["token"]["used_credits"] == pytest.approx(3.6) and after["token"]["unlimited_credits"] is True


async def test_short_balance_gets_402_and_the_balance_is_unchanged(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(credits=3.0)
    client = client_for(app)
    response = await _post(client, n=2)
    error = assert_matches_spec("createImageGeneration", response)["error"]
    assert response.status_code == 402 and error["code"] == "insufficient_quota"
    assert error["details"] == {"estimated_credits": pytest.approx(3.6), "account_balance_credits": 3.0}
    assert (await client.get("/v1/credits")).json()["data"]["user"]["remaining_credits"] == 3.0


async def test_a_failed_task_gives_its_credits_back_when_it_fails(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app(credits=10.0)
    client = client_for(app)
    task = (await _post(client, prompt="[sim:fail=service_error] [sim:duration=30] a fox")).json()
    assert (await client.get("/v1/credits")).json()["data"]["user"]["remaining_credits"] == pytest.approx(8.2)
    clock.advance(31)
    assert (await client.get(f"/v1/tasks/{task['id']}")).json()["status"] == "failed"
    assert (await client.get("/v1/credits")).json()["data"]["user"]["remaining_credits"] == pytest.approx(10.0)
    listed = (await client.get("/v1/tasks")).json()["data"][0]
    assert listed["has_error"] is True and listed["credits_used"] == 0
    assert app.counters()["credits_refunded"] == pytest.approx(1.8)


async def test_unlimited_simulator_reports_a_large_finite_balance(make_app: Make, client_for: ClientFor) -> None:
    response = await client_for(make_app()).get("/v1/credits")
    assert assert_matches_spec("getCredits", response)["data"]["user"]["remaining_credits"] >= 1e9


async def test_new_routes_need_the_key(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app(), headers={})
    for response, operation in [
        (await client.get("/v1/credits"), "getCredits"),
        (await client.get("/v1/tasks"), "listTasks"),
        (await client.post("/v1/tasks/batch", json={"task_ids": []}), "batchQueryTasks"),
    ]:
        assert response.status_code == 401
        assert assert_matches_spec(operation, response)["error"]["code"] == "unauthorized"


async def test_posts_whose_answers_were_lost_are_recovered_by_their_key_without_a_second_task(
    make_app: Make, client_for: ClientFor
) -> None:
    app = make_app(fault_drop=0.4, fault_5xx=0.3, seed=7)
    client = client_for(app)
    answers: list[httpx.Response] = []
    for _ in range(40):  # the same POST, over and over, as a client replaying with its key would
        try:
            response = await _post(client)
        except httpx.RemoteProtocolError:
            continue
        if response.status_code == 200:
            answers.append(response)
    counters = app.counters()
    assert counters["faults"]["drop_after"] + counters["faults"]["5xx_after"] > 0, "no lost answer was drawn"
    assert answers and {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    assert counters["tasks_created"] == 1 and counters["credits_charged"] == pytest.approx(1.8)
    assert counters["idempotency"]["replayed"] >= len(answers) - 1


def test_store_refuses_a_second_claim_while_the_first_is_served_and_forgets_what_created_nothing() -> None:
    from seedream.simulator._idempotency import IdempotencyStore

    store = IdempotencyStore(lifetime=10.0)
    assert store.claim("sk", "k", "d1", now=0.0).outcome == "new"
    assert store.claim("sk", "k", "d1", now=1.0).outcome == "in_progress"
    assert store.claim("sk", "k", "d2", now=1.0).outcome == "conflict"
    store.finish("sk", "k", None)  # created nothing: the key is free again
    assert store.claim("sk", "k", "d2", now=2.0).outcome == "new"
    store.finish("sk", "k", {"id": "task-unified-1-a"})
    replay = store.claim("sk", "k", "d2", now=11.9)
    assert (replay.outcome, replay.answer) == ("replay", {"id": "task-unified-1-a"})
    assert store.claim("sk", "k", "d2", now=12.0).outcome == "new"  # 10 s after its first request
    assert len(store) == 1
