"""Retries: GETs on 429/5xx/connection errors; POSTs only when the server cannot have acted on them."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from seedream._errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    RateLimitError,
    ServerError,
)
from seedream._ledger import Ledger, TaskState
from seedream._retry import RetryPolicy, backoff_delay, cut_by_deadline, decide
from seedream._sync._retry import call_with_retries
from seedream._sync._workflow import Seedream

from .helpers import SENTINEL_KEY, ScriptedServer, Sleeps, created_response, error_response, json_response, task_body

RNG = random.Random(0)


def rate_limited(retry_after: float | None) -> RateLimitError:
    return RateLimitError("slow down", retry_after=retry_after, status=429)


def server_error(status: int = 503) -> ServerError:
    return ServerError("boom", status=status)


def test_get_retries_5xx_and_lost_connections_with_growing_backoff(sleeps: Sleeps) -> None:
    outcomes: list[Exception | str] = [server_error(), APIConnectionError("reset", request_sent=True), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(base_delay=1.0, jitter=0.5)
    assert call_with_retries(call, method="GET", operation="GET", policy=policy, sleep=sleeps) == "ok"
    assert len(sleeps.calls) == 2
    assert 0.5 <= sleeps.calls[0] <= 1.0
    assert 1.0 <= sleeps.calls[1] <= 2.0


def test_retry_after_is_honoured_exactly(sleeps: Sleeps) -> None:
    outcomes: list[Exception | str] = [rate_limited(7.0), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retries(call, method="POST", operation="POST", policy=RetryPolicy(), sleep=sleeps) == "ok"
    assert sleeps.calls == [7.0]


def test_retry_after_above_the_cap_is_passed_on_without_waiting(sleeps: Sleeps) -> None:
    def call() -> str:
        raise rate_limited(3600.0)

    with pytest.raises(RateLimitError):
        call_with_retries(call, method="GET", operation="GET", policy=RetryPolicy(retry_after_cap=30), sleep=sleeps)
    assert sleeps.calls == []


def test_retry_after_header_from_the_wire_drives_the_sleep(
    make_client: Callable[..., Seedream], sleeps: Sleeps
) -> None:
    server = ScriptedServer(
        posts=[error_response(429, "rate_limit_exceeded", {"Retry-After": "4"}), created_response()]
    )
    client = make_client(server)
    client.submit("a lighthouse")
    assert server.count("POST") == 2
    assert sleeps.calls == [4.0]


@pytest.mark.parametrize(
    ("error", "method", "retry"),
    [
        (server_error(500), "GET", True),
        (server_error(502), "POST", False),
        (APITimeoutError("read timeout", request_sent=True), "GET", True),
        (APITimeoutError("read timeout", request_sent=True), "POST", False),
        (APIConnectionError("reset after send", request_sent=True), "POST", False),
        (APIConnectionError("refused", request_sent=False), "POST", True),
        (APITimeoutError("connect timeout", request_sent=False), "POST", True),
        (rate_limited(None), "POST", True),
        (BadRequestError("bad", status=400), "GET", False),
        (BadRequestError("bad", status=400), "POST", False),
    ],
)
def test_decision_ladder(error: Exception, method: str, retry: bool) -> None:
    decision = decide(error, method=method, attempt=1, policy=RetryPolicy(), rng=RNG)  # type: ignore[arg-type]
    assert decision.retry is retry, decision.reason


@pytest.mark.parametrize(
    ("error", "before_deadline", "cut"),
    [
        (APITimeoutError("read timeout", request_sent=True), 0.0, True),
        (server_error(503), 1.0, True),  # a retry's delay would have passed the deadline
        (rate_limited(None), 1.0, True),
        (server_error(503), 1_000.0, False),  # long before it: the ladder was used up on its own
        (BadRequestError("bad", status=400), 0.0, False),  # not transient: more time changes nothing
    ],
)
def test_a_shared_query_s_error_counts_as_cut_only_if_more_time_could_have_changed_it(
    error: Exception, before_deadline: float, cut: bool
) -> None:
    assert cut_by_deadline(error, at=100.0 - before_deadline, deadline=100.0, policy=RetryPolicy()) is cut


def test_unsafe_post_retries_only_when_opted_in() -> None:
    error = APITimeoutError("read timeout", request_sent=True)
    assert not decide(error, method="POST", attempt=1, policy=RetryPolicy(), rng=RNG).retry
    assert decide(error, method="POST", attempt=1, policy=RetryPolicy(replay_unsafe_posts=True), rng=RNG).retry


def test_attempts_are_limited_and_the_last_error_propagates(sleeps: Sleeps) -> None:
    calls = 0

    def call() -> str:
        nonlocal calls
        calls += 1
        raise server_error()

    with pytest.raises(ServerError):
        call_with_retries(call, method="GET", operation="GET", policy=RetryPolicy(max_attempts=3), sleep=sleeps)
    assert calls == 3
    assert len(sleeps.calls) == 2


def test_no_retry_starts_past_the_deadline(sleeps: Sleeps) -> None:
    def call() -> str:
        raise server_error()

    with pytest.raises(ServerError):
        call_with_retries(
            call,
            method="GET",
            operation="GET",
            policy=RetryPolicy(base_delay=5.0, jitter=0.0),
            sleep=sleeps,
            clock=sleeps.clock,
            deadline=sleeps.now + 1.0,
        )
    assert sleeps.calls == []


def test_backoff_doubles_up_to_the_cap() -> None:
    class Top(random.Random):
        def random(self) -> float:
            return 0.0

    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    assert [backoff_delay(a, policy, Top()) for a in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("simulated read timeout", request=request)


def test_post_is_never_replayed_after_a_read_timeout(
    make_client: Callable[..., Seedream], ledger: Ledger, sleeps: Sleeps
) -> None:
    server = ScriptedServer(posts=[read_timeout])
    client = make_client(server)
    with pytest.raises(APITimeoutError):
        client.submit("a lighthouse", n=2)
    assert server.count("POST") == 1
    assert sleeps.calls == []
    [entry] = ledger.entries()
    assert entry.state == TaskState.UNCONFIRMED  # may be charged: kept visible, never silently retried


def test_post_is_never_replayed_after_a_5xx(make_client: Callable[..., Seedream], ledger: Ledger) -> None:
    server = ScriptedServer(posts=[error_response(503, "service_unavailable")])
    with pytest.raises(ServerError):
        make_client(server).submit("a lighthouse")
    assert server.count("POST") == 1
    assert ledger.entries()[0].state == TaskState.UNCONFIRMED


def test_post_is_replayed_after_a_read_timeout_when_opted_in(make_client: Callable[..., Seedream]) -> None:
    server = ScriptedServer(posts=[read_timeout, created_response()])
    client = make_client(server, retry=RetryPolicy(replay_unsafe_posts=True))
    assert client.submit("a lighthouse").id is not None
    assert server.count("POST") == 2


def test_post_is_retried_when_the_connection_was_refused(make_client: Callable[..., Seedream], ledger: Ledger) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = ScriptedServer(posts=[refused, created_response()])
    make_client(server).submit("a lighthouse")
    assert server.count("POST") == 2
    assert ledger.entries()[0].state == TaskState.SUBMITTED


def test_refused_4xx_post_is_recorded_as_rejected(make_client: Callable[..., Seedream], ledger: Ledger) -> None:
    server = ScriptedServer(posts=[error_response(402, "insufficient_quota")])
    with pytest.raises(Exception, match="insufficient_quota"):
        make_client(server).submit("a lighthouse")
    assert server.count("POST") == 1
    assert ledger.entries()[0].state == TaskState.REJECTED


def test_get_is_retried_through_5xx_while_waiting(make_client: Callable[..., Seedream]) -> None:
    server = ScriptedServer(
        posts=[created_response()],
        gets=[
            error_response(502, "bad_gateway"),
            json_response(200, task_body("failed", error={"code": "service_error", "message": "x"})),
        ],
    )
    client = make_client(server)
    with pytest.raises(Exception, match="service_error"):
        client.wait(client.submit("a lighthouse"))
    assert server.count("GET", "/v1/tasks/") == 2


def test_each_decision_is_logged_at_debug_without_the_key(
    make_client: Callable[..., Seedream], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    server = ScriptedServer(
        posts=[error_response(429, "rate_limit_exceeded", {"Retry-After": "1"}), read_timeout],
    )
    with pytest.raises(APITimeoutError):
        make_client(server).submit("a lighthouse")
    retry_lines = [r.getMessage() for r in caplog.records if r.name == "seedream.retry"]
    assert len(retry_lines) == 2
    assert "Retry-After" in retry_lines[0] and "retry in" in retry_lines[0]
    assert "give up" in retry_lines[1] and "never replayed" in retry_lines[1]
    assert SENTINEL_KEY not in caplog.text
