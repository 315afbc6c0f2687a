"""Callbacks: the finished task POSTed to callback_url, retried after 1/2/4 s, to a loopback receiver."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from seedream.simulator import CALLBACK_RETRY_DELAYS, ManualClock, SimulatorApp, SimulatorConfig, run_simulator

from .helpers import AUTH, Receiver, body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]


async def _create(client: httpx.AsyncClient, receiver: Receiver, prompt: str = "[sim:duration=5]") -> str:
    response = await client.post("/v1/images/generations", json=body(prompt=prompt, callback_url=receiver.url()))
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


async def test_completed_task_is_posted_as_the_task_query_shows_it(
    make_app: Make, client_for: ClientFor, clock: ManualClock, receiver: Receiver
) -> None:
    app = make_app()
    client = client_for(app)
    task_id = await _create(client, receiver)
    assert app.counters()["callbacks"]["pending"] == 1
    assert clock.advance_to_next() == 5.0  # the delivery waits for the task's end, not earlier
    (received,) = receiver.wait_for(1)
    assert app.wait_callbacks(10)
    assert received.path == "/hook"
    assert received.headers["content-type"] == "application/json"
    assert received.json() == (await client.get(f"/v1/tasks/{task_id}")).json()
    assert received.json()["status"] == "completed"
    (attempt,) = app.callback_attempts()
    assert (attempt.task_id, attempt.attempt, attempt.status, attempt.outcome) == (task_id, 1, 200, "delivered")
    assert app.counters()["callbacks"] == {"attempts": 1, "delivered": 1, "failed": 0, "pending": 0, "refused": 0}


async def test_failed_task_is_posted_with_its_error(
    make_app: Make, client_for: ClientFor, clock: ManualClock, receiver: Receiver
) -> None:
    app = make_app()
    await _create(client_for(app), receiver, prompt="[sim:fail=content_policy_violation][sim:duration=2]")
    clock.advance(2)
    (received,) = receiver.wait_for(1)
    assert received.json()["status"] == "failed"
    assert received.json()["error"]["code"] == "content_policy_violation"


async def test_non_2xx_answers_are_retried_after_1_2_and_4_seconds(
    make_app: Make, client_for: ClientFor, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.script.extend([500, 404, 302])
    app = make_app()
    await _create(client_for(app), receiver)
    times = [clock.advance_to_next() for _ in range(4)]
    receiver.wait_for(4)
    assert app.wait_callbacks(10)
    assert times == [5.0, 6.0, 8.0, 12.0]
    assert CALLBACK_RETRY_DELAYS == (1.0, 2.0, 4.0)
    attempts = app.callback_attempts()
    assert [(a.attempt, a.at, a.status, a.outcome) for a in attempts] == [
        (1, 5.0, 500, "rejected"),
        (2, 6.0, 404, "rejected"),
        (3, 8.0, 302, "rejected"),
        (4, 12.0, 200, "delivered"),
    ]


async def test_delivery_gives_up_after_three_retries(
    make_app: Make, client_for: ClientFor, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.default = 503
    app = make_app()
    await _create(client_for(app), receiver)
    for _ in range(4):
        clock.advance_to_next()
    assert app.wait_callbacks(10)
    assert len(receiver.wait_for(4)) == 4
    assert clock.deadlines() == []  # nothing more is scheduled
    assert app.counters()["callbacks"] == {"attempts": 4, "delivered": 0, "failed": 1, "pending": 0, "refused": 0}


def test_schedule_and_timeout_scale_with_time_scale_over_real_http(receiver: Receiver) -> None:
    # time_scale 0.05: retries after 0.05/0.1/0.2 s, the 10 s timeout becomes 0.5 s.
    receiver.script.extend(["hang", 500])
    receiver.hang_seconds = 1.5
    config = SimulatorConfig.for_tests(time_scale=0.05)
    with run_simulator(config) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        created = client.post(
            "/v1/images/generations", json=body(prompt="[sim:duration=1]", callback_url=receiver.url())
        )
        assert created.status_code == 200
        assert server.wait_callbacks(20)
        attempts = server.callback_attempts()
    assert [(a.attempt, a.outcome) for a in attempts] == [(1, "error:ReadTimeout"), (2, "rejected"), (3, "delivered")]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    # Each retry waits at least its scaled delay after the previous attempt began (plus that attempt's own time).
    assert gaps[0] >= 0.5 + 0.05 and gaps[1] >= 0.1
    assert receiver.wait_for(3)[2].json()["status"] == "completed"


async def test_internal_callback_url_is_refused_at_post_without_allow_loopback(
    make_app: Make, client_for: ClientFor, receiver: Receiver
) -> None:
    app = make_app(allow_loopback=False)
    response = await client_for(app).post("/v1/images/generations", json=body(callback_url=receiver.url()))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "callback_url"
    assert app.counters()["tasks_created"] == 0


@pytest.mark.parametrize(
    ("overrides", "url"),
    [
        ({"outbound": "none"}, None),  # loopback allowed, but nothing may leave
        ({"outbound": "loopback"}, "https://hooks.example.com/seedream"),  # public host while loopback-only
        ({"outbound": "public"}, "https://10.1.2.3/hook"),  # private addresses are never contacted
    ],
)
async def test_callbacks_the_policy_forbids_are_refused_not_sent(
    make_app: Make,
    client_for: ClientFor,
    clock: ManualClock,
    receiver: Receiver,
    overrides: dict[str, str],
    url: str | None,
) -> None:
    app = make_app(**overrides)
    callback_url = url or receiver.url()
    response = await client_for(app).post(
        "/v1/images/generations", json=body(prompt="[sim:duration=1]", callback_url=callback_url)
    )
    assert response.status_code == 200
    clock.advance(1)
    assert app.wait_callbacks(10)
    (attempt,) = app.callback_attempts()
    assert attempt.outcome.startswith("refused:")
    assert app.counters()["callbacks"]["refused"] == 1
    assert receiver.received == []


async def test_close_cancels_pending_deliveries(make_app: Make, client_for: ClientFor, receiver: Receiver) -> None:
    app = make_app()
    await _create(client_for(app), receiver)
    app.close()
    assert app.wait_callbacks(10)
    assert receiver.received == [] and app.callback_attempts() == []
