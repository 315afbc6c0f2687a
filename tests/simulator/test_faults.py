"""Each fault knob, and the account-level refusals: 401, 402, 403, per-key 429."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from seedream.simulator import ManualClock, SimulatorApp, SimulatorConfig, run_simulator

from .helpers import AUTH, assert_matches_spec, body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-other"}, {"Authorization": "Basic c2stdGVzdA=="}, {"Authorization": "Bearer"}],
)
async def test_missing_or_other_bearer_token_gets_the_spec_401_body(
    make_app: Make, client_for: ClientFor, headers: dict[str, str]
) -> None:
    client = client_for(make_app(), headers=headers)
    for response, operation in [
        (await client.post("/v1/images/generations", json=body()), "createImageGeneration"),
        (await client.get("/v1/tasks/task-unified-1-x"), "getTaskDetail"),
    ]:
        assert response.status_code == 401
        error = assert_matches_spec(operation, response)["error"]
        assert (error["code"], error["type"]) == ("unauthorized", "authentication_error")


async def test_without_configured_keys_any_bearer_token_is_accepted(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app(api_keys=()), headers={"Authorization": "Bearer anything-at-all"})
    assert (await client.post("/v1/images/generations", json=body())).status_code == 200
    assert (await client_for(make_app(api_keys=()), headers={}).get("/v1/tasks/task-unified-1-x")).status_code == 401


async def test_key_without_model_access_gets_403_model_access_denied(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(api_keys=("sk-test", "sk-limited"), no_access_keys=("sk-limited",))
    limited = client_for(app, headers={"Authorization": "Bearer sk-limited"})
    response = await limited.post("/v1/images/generations", json=body())
    error = assert_matches_spec("createImageGeneration", response)["error"]
    assert response.status_code == 403 and error["code"] == "model_access_denied"
    assert (await limited.get("/v1/tasks/task-unified-1-x")).status_code == 404  # the key itself is valid
    assert app.counters()["tasks_created"] == 0


async def test_credits_are_charged_for_n_at_post_and_exhaustion_gets_402(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(credits=5.0)
    client = client_for(app)
    assert (await client.post("/v1/images/generations", json=body(n=2))).status_code == 200
    response = await client.post("/v1/images/generations", json=body(n=1))
    error = assert_matches_spec("createImageGeneration", response)["error"]
    assert response.status_code == 402 and error["code"] == "insufficient_quota"
    counters = app.counters()
    assert counters["credits_charged"] == pytest.approx(3.6)
    assert counters["credits_remaining"] == pytest.approx(1.4)
    assert counters["tasks_created"] == 1


async def test_per_key_rate_limit_answers_429_with_retry_after_until_the_window_passes(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app(api_keys=("sk-test", "sk-other"), rate_limit=2, rate_limit_window=60)
    client = client_for(app)
    other = client_for(app, headers={"Authorization": "Bearer sk-other"})
    assert (await client.post("/v1/images/generations", json=body())).status_code == 200
    clock.advance(10)
    assert (await client.get("/v1/tasks/task-unified-1-x")).status_code == 404
    limited = await client.get("/v1/tasks/task-unified-1-x")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert limited.headers["retry-after"] == "50"  # the first request leaves the window at t=60
    assert (await other.get("/v1/tasks/task-unified-1-x")).status_code == 404  # per key
    clock.advance(50)
    assert (await client.get("/v1/tasks/task-unified-1-x")).status_code == 404
    assert app.counters()["faults"]["rate_limited"] == 1


async def test_fault_429_throttles_authenticated_requests_with_retry_after(
    make_app: Make, client_for: ClientFor
) -> None:
    app = make_app(fault_429=1.0)
    client = client_for(app)
    for _ in range(10):
        response = await client.post("/v1/images/generations", json=body())
        assert response.status_code == 429
        assert assert_matches_spec("createImageGeneration", response)["error"]["type"] == "rate_limit_error"
        assert 1 <= int(response.headers["retry-after"]) <= 5
    assert (await client_for(app, headers={}).get("/v1/tasks/task-unified-1-x")).status_code == 401
    assert app.counters()["faults"]["429"] == 10 and app.counters()["tasks_created"] == 0


async def test_retry_after_is_scaled_by_time_scale(make_app: Make, client_for: ClientFor) -> None:
    response = await client_for(make_app(fault_429=1.0, time_scale=0.01)).post("/v1/images/generations", json=body())
    assert 0.01 <= float(response.headers["retry-after"]) <= 0.05


async def test_fault_5xx_answers_500_502_or_503_and_sometimes_after_acting(
    make_app: Make, client_for: ClientFor
) -> None:
    app = make_app(fault_5xx=1.0)
    client = client_for(app)
    statuses = set()
    for _ in range(40):
        response = await client.post("/v1/images/generations", json=body())
        statuses.add(response.status_code)
        if response.status_code == 500:
            assert_matches_spec("createImageGeneration", response)
        if response.status_code == 503:
            assert response.headers["retry-after"]
        if response.status_code == 502:
            assert response.headers["content-type"].startswith("text/html")
    faults = app.counters()["faults"]
    assert statuses == {500, 502, 503}
    assert faults["5xx_before"] + faults["5xx_after"] == 40 and faults["5xx_before"] > 0 and faults["5xx_after"] > 0
    # A 5xx after the server acted still created (and charged) the task: the client cannot tell.
    assert app.counters()["tasks_created"] == faults["5xx_after"]


async def test_fault_drop_in_process_raises_the_error_httpx_gives_for_a_dropped_connection(
    make_app: Make, client_for: ClientFor
) -> None:
    app = make_app(fault_drop=1.0)
    client = client_for(app)
    for _ in range(20):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/v1/images/generations", json=body())
    counters = app.counters()
    assert counters["requests"]["POST /v1/images/generations"] == {"dropped": 20}
    assert counters["tasks_created"] == counters["faults"]["drop_after"] > 0
    assert (await client.get("/__simulator__/counters")).status_code == 200  # simulator paths have no faults


def test_fault_drop_over_uvicorn_closes_the_connection_without_a_response() -> None:
    config = SimulatorConfig.for_tests(fault_drop=0.5, seed=3)
    outcomes: list[str] = []
    with run_simulator(config) as server, httpx.Client(base_url=server.base_url, headers=AUTH, timeout=10) as client:
        for _ in range(16):
            try:
                outcomes.append(str(client.post("/v1/images/generations", json=body()).status_code))
            except (httpx.RemoteProtocolError, httpx.ReadError):  # a closed socket reads as either: FIN or RST
                outcomes.append("dropped")
        counters = server.counters()
        assert client.get("/__simulator__/health").status_code == 200  # still serving
    assert set(outcomes) == {"200", "dropped"}
    assert counters["requests"]["POST /v1/images/generations"] == {
        status: outcomes.count(status) for status in set(outcomes)
    }


def test_fault_latency_delays_answers_past_a_client_timeout() -> None:
    config = SimulatorConfig.for_tests(fault_latency=1.0, time_scale=0.5)  # one simulated second = 0.5 s
    with run_simulator(config) as server:
        with (
            httpx.Client(base_url=server.base_url, headers=AUTH, timeout=0.1) as hasty,
            pytest.raises(httpx.ReadTimeout),
        ):
            hasty.get("/v1/tasks/task-unified-1-x")
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=10) as patient:
            assert patient.get("/v1/tasks/task-unified-1-x").status_code == 404
        assert server.counters()["faults"]["latency"] == 2


async def test_fault_latency_rate_picks_a_share_of_requests(make_app: Make, client_for: ClientFor) -> None:
    app = make_app(fault_latency=0.001, fault_latency_rate=0.5)
    client = client_for(app)
    for _ in range(40):
        await client.get("/v1/tasks/task-unified-1-x")
    assert 5 < app.counters()["faults"]["latency"] < 35
