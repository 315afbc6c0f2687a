"""Idempotency keys: one fresh key per intent, in the ledger before the POST; replays only where support is proven."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream import Seedream
from seedream._errors import (
    APITimeoutError,
    IdempotencyConflictError,
    RequestValidationError,
    SeedreamError,
    ServerError,
)
from seedream._idempotency import (
    REPLAYABLE_KEY_AGE_SECONDS,
    IdempotencySupport,
    check_key,
    judge_probe,
    new_key,
)
from seedream._ledger import MIGRATIONS, Ledger, TaskState
from seedream._polling import PollPolicy
from seedream._retry import RetryPolicy, decide
from seedream._sync._api import SeedreamAPI
from seedream.simulator import SimulatorConfig, create_app

from .helpers import BASE_URL, SENTINEL_KEY, TASK_ID, ScriptedServer, created_response, error_response, json_response

KEY = re.compile(r"run_[0-9a-f]{32}")
RNG = random.Random(0)


def establish(ledger: Ledger, base_url: str = BASE_URL) -> None:
    ledger.record_idempotency_support(IdempotencySupport(base_url, "supported", "test: declared", time.time()))


def lost(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("the answer was lost", request=request)


def keys_sent(server: ScriptedServer) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in server.requests if r.method == "POST"]


# -- the key -----------------------------------------------------------------------------------------------------


def test_a_new_key_has_the_vendor_format_and_is_fresh_each_time() -> None:
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100 and all(KEY.fullmatch(key) for key in keys)


@pytest.mark.parametrize("bad", ["", "has space", "x" * 256, "caf\u00e9", 42, None])
def test_a_caller_key_that_cannot_be_a_header_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(RequestValidationError, match="idempotency_key"):
        check_key(bad)


def test_guarded_client_sends_the_given_key_or_a_fresh_one_in_both_headers() -> None:
    server = ScriptedServer(posts=[created_response()])
    with SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=server.transport()) as api:
        api.create_generation("a lighthouse", idempotency_key="run_" + "a" * 32)
        api.create_generation("a lighthouse")
        api.create_generation("a lighthouse")
        with pytest.raises(RequestValidationError, match="idempotency_key"):
            api.create_generation("a lighthouse", idempotency_key="two words")
    sent = [(r.headers["Idempotency-Key"], r.headers["X-Evo-Run-Id"]) for r in server.requests]
    assert len(sent) == 3 and all(key == run_id for key, run_id in sent)
    assert sent[0][0] == "run_" + "a" * 32
    assert KEY.fullmatch(sent[1][0]) and KEY.fullmatch(sent[2][0]) and sent[1][0] != sent[2][0]


def test_guarded_client_reports_a_replayed_answer() -> None:
    replay = created_response()
    replay.headers["idempotency-replayed"] = "true"
    server = ScriptedServer(posts=[created_response(), replay])
    with SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=server.transport()) as api:
        body = api.build_body("a lighthouse")
        first = api.create_generation_answer(body, idempotency_key="run_" + "b" * 32)
        second = api.create_generation_answer(body, idempotency_key="run_" + "b" * 32)
    assert (first.replayed, second.replayed) == (False, True)
    assert first.idempotency_key == second.idempotency_key == "run_" + "b" * 32


def test_every_submit_writes_its_key_into_the_intent_row_before_the_post_leaves(
    make_client: Callable[..., Seedream], ledger: Ledger
) -> None:
    seen: list[tuple[str, str | None]] = []

    def check_row(request: httpx.Request) -> None:  # runs while the request is "on the wire"
        [row] = [e for e in ledger.entries() if e.state == TaskState.INTENT]
        seen.append((request.headers["Idempotency-Key"], row.idempotency_key))

    server = ScriptedServer(posts=[created_response(), created_response("task-unified-1757165031-second")])
    server.on_post = check_row
    client = make_client(server)
    client.submit("a lighthouse")
    client.submit("a lighthouse")
    assert len(seen) == 2 and all(sent == stored for sent, stored in seen)
    assert seen[0][0] != seen[1][0]
    assert {e.idempotency_key for e in ledger.entries()} == {sent for sent, _ in seen}


def test_migration_5_adds_the_key_column_and_the_support_table(tmp_path: Path) -> None:
    assert MIGRATIONS[-1][0] == 5
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        local = ledger.record_intent(base_url=BASE_URL, params={"prompt": "x"}, directory=None, idempotency_key="k1")
        [entry] = ledger.entries()
        assert entry.local_id == local and entry.idempotency_key == "k1" and entry.body_sha256
        assert ledger.idempotency_support(BASE_URL) == []
        establish(ledger)
    with Ledger(tmp_path / "l.sqlite3") as reopened:  # remembered across processes
        [support] = reopened.idempotency_support(BASE_URL)
        assert support.established and support.evidence == "test: declared"


# -- the decision ladder -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ServerError("boom", status=502),
        APITimeoutError("read timeout", request_sent=True),
        IdempotencyConflictError("busy", status=409, code="paid_outcome_unknown"),
    ],
    ids=["5xx", "read-timeout", "409-in-progress"],
)
def test_a_keyed_post_is_replayed_after_a_lost_answer_an_unkeyed_one_never(error: Exception) -> None:
    keyed = decide(error, method="POST", attempt=1, policy=RetryPolicy(), rng=RNG, keyed=True)
    plain = decide(error, method="POST", attempt=1, policy=RetryPolicy(), rng=RNG)
    assert (keyed.retry and "Idempotency-Key" in keyed.reason) or "still being served" in keyed.reason
    assert not plain.retry


def test_a_key_conflict_is_never_retried_and_replays_stop_at_max_attempts() -> None:
    conflict = IdempotencyConflictError("taken", status=409, code="idempotency_conflict")
    assert not decide(conflict, method="POST", attempt=1, policy=RetryPolicy(), rng=RNG, keyed=True).retry
    last = decide(ServerError("boom", status=500), method="POST", attempt=4, policy=RetryPolicy(), rng=RNG, keyed=True)
    assert not last.retry and "attempts used" in last.reason


# -- submit: replay with the same key only where support is established -----------------------------------------


def test_with_support_a_lost_answer_is_replayed_with_the_same_key_and_the_task_recovered(
    make_client: Callable[..., Seedream], ledger: Ledger
) -> None:
    establish(ledger)
    replay = created_response()
    replay.headers["idempotency-replayed"] = "true"
    server = ScriptedServer(posts=[lost, error_response(500, "server_error"), replay])
    response = make_client(server).submit("a lighthouse")
    assert response.id == TASK_ID
    sent = keys_sent(server)
    assert len(sent) == 3 and len(set(sent)) == 1
    [entry] = ledger.entries()
    assert entry.state == TaskState.SUBMITTED and entry.task_id == TASK_ID and entry.idempotency_key == sent[0]
    assert entry.error_message is not None and "recovered by replaying Idempotency-Key" in entry.error_message


def test_without_support_a_lost_answer_is_never_replayed(make_client: Callable[..., Seedream], ledger: Ledger) -> None:
    server = ScriptedServer(posts=[lost, created_response()])
    with pytest.raises(APITimeoutError):
        make_client(server).submit("a lighthouse")
    assert server.count("POST") == 1
    [entry] = ledger.entries()
    assert entry.state == TaskState.UNCONFIRMED and entry.idempotency_key is not None


def test_a_conflict_on_replay_leaves_the_row_unconfirmed_with_a_note(
    make_client: Callable[..., Seedream], ledger: Ledger
) -> None:
    establish(ledger)
    server = ScriptedServer(posts=[lost, error_response(409, "idempotency_conflict")])
    with pytest.raises(IdempotencyConflictError):
        make_client(server).submit("a lighthouse")
    assert server.count("POST") == 2
    [entry] = ledger.entries()
    assert entry.state == TaskState.UNCONFIRMED
    assert entry.error_message is not None and "used for another request: not replayed further" in entry.error_message


def test_a_429_after_a_lost_answer_leaves_the_row_unconfirmed_not_rejected(
    make_client: Callable[..., Seedream], ledger: Ledger
) -> None:
    establish(ledger)
    server = ScriptedServer(posts=[lost, error_response(429, "rate_limited")])
    with pytest.raises(SeedreamError):
        make_client(server, retry=RetryPolicy(max_attempts=2)).submit("a lighthouse")
    [entry] = ledger.entries()
    assert entry.state == TaskState.UNCONFIRMED
    assert entry.error_message is not None and "1 of 2 attempts may have reached the server" in entry.error_message


# -- which failures prove nothing was created ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "state"),
    [
        (402, "insufficient_quota", TaskState.REJECTED),
        (403, "key_disabled", TaskState.REJECTED),
        (400, "invalid_request", TaskState.UNCONFIRMED),
        (403, "model_access_denied", TaskState.UNCONFIRMED),
        (400, 400, TaskState.UNCONFIRMED),  # an integer code, as the vendor's credits page shows: kept, proves nothing
    ],
)
def test_only_an_admission_code_proves_nothing_was_created(
    make_client: Callable[..., Seedream], ledger: Ledger, status: int, code: object, state: TaskState
) -> None:
    body = {"error": {"code": code, "message": "refused", "type": "error"}}
    server = ScriptedServer(posts=[json_response(status, body)])
    with pytest.raises(SeedreamError) as raised:
        make_client(server).submit("a lighthouse")
    assert getattr(raised.value, "code", None) == code  # an integer code stays an integer
    [entry] = ledger.entries()
    assert entry.state == state
    if state == TaskState.UNCONFIRMED:
        assert entry.error_message is not None and "not an admission refusal" in entry.error_message


# -- the probe and resume, against the simulator -----------------------------------------------------------------


class LosesFirstAnswer(httpx.ASGITransport):
    """The simulator in-process; the answer to the first POST is lost after the simulator acted on it."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.lose = 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and self.lose:
            self.lose -= 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.fixture(params=[True, False], ids=["keys-honoured", "keys-ignored"])
def sim(request: pytest.FixtureRequest) -> Iterator[Any]:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01, honour_idempotency_keys=request.param)
    with create_app(config) as app:
        yield app


def test_probe_establishes_support_only_where_keys_are_honoured_and_remembers_it(sim: Any, ledger: Ledger) -> None:
    import asyncio

    from seedream import AsyncSeedream

    honoured = sim.config.honour_idempotency_keys

    async def run() -> IdempotencySupport:
        async with AsyncSeedream(
            SENTINEL_KEY, base_url=BASE_URL, ledger=ledger, transport=httpx.ASGITransport(app=sim)
        ) as client:
            assert client.idempotency.state == "unproven"  # the default
            return await client.probe_idempotency()

    support = asyncio.run(run())
    counters = sim.counters()
    assert support.state == ("supported" if honoured else "not_supported")
    assert counters["tasks_created"] == (1 if honoured else 2)  # the probe's cost: one image, two where ignored
    assert counters["idempotency"]["replayed"] == (1 if honoured else 0)
    assert [s.state for s in ledger.idempotency_support(BASE_URL)] == [support.state]
    states = sorted(str(e.state) for e in ledger.entries())
    assert states == (["rejected", "submitted"] if honoured else ["submitted", "submitted"])
    with Seedream(SENTINEL_KEY, base_url=BASE_URL, ledger=ledger) as later:  # a later client on the same ledger
        assert later.idempotency.established == honoured


def test_resume_replays_an_unconfirmed_row_once_support_is_established(
    sim: Any, ledger: Ledger, tmp_path: Path
) -> None:
    import asyncio

    from seedream import AsyncSeedream

    honoured = sim.config.honour_idempotency_keys
    transport = LosesFirstAnswer(sim)

    async def run() -> list[Any]:
        async with AsyncSeedream(
            SENTINEL_KEY,
            base_url=BASE_URL,
            ledger=ledger,
            transport=transport,
            download_transport=transport,
            polling=PollPolicy().scaled(0.01),
            allow_internal_result_hosts=True,
        ) as client:
            with pytest.raises(APITimeoutError):
                await client.submit("a lighthouse", directory=tmp_path)  # support unproven: never replayed
            await client.probe_idempotency()
            return await client.resume(timeout=30)

    outcomes = asyncio.run(run())
    lost_row = next(e for e in ledger.entries() if e.params.get("prompt") == "a lighthouse")
    created = sim.counters()["tasks_created"]
    if honoured:  # the original task recovered, not a second one: 1 + the probe's 1
        assert created == 2 and lost_row.state == TaskState.DOWNLOADED
        [done] = [o for o in outcomes if o.task_id == lost_row.task_id]
        assert done.state == "downloaded" and "recovered by resume" in done.message
    else:  # not established: the row stays unconfirmed and says why
        assert created == 3 and lost_row.state == TaskState.UNCONFIRMED
        [kept] = [o for o in outcomes if o.state == "unconfirmed"]
        assert "not replayed: Idempotency-Key support is not established" in kept.message


def test_resume_does_not_replay_a_key_past_the_gateway_retention(ledger: Ledger, tmp_path: Path) -> None:
    old = time.time() - REPLAYABLE_KEY_AGE_SECONDS - 60
    with Ledger(ledger.path, clock=lambda: old) as past:
        local = past.record_intent(
            base_url=BASE_URL, params={"model": "doubao-seedream-5.0-lite", "prompt": "x"}, directory=None,
            idempotency_key=new_key(),
        )  # fmt: skip
        past.record_submit_failed(local, may_exist=True, error="ReadTimeout")
    establish(ledger)
    server = ScriptedServer(posts=[created_response()])
    with Seedream(SENTINEL_KEY, base_url=BASE_URL, ledger=ledger, transport=server.transport()) as client:
        outcomes = client.resume(tmp_path)
    assert server.count("POST") == 0
    [outcome] = outcomes
    assert outcome.state == "unconfirmed" and "past the 23 h" in outcome.message


def test_probe_evidence_names_the_key_and_the_task_ids() -> None:
    assert judge_probe("run_k", "t1", "t1", True)[0] == "supported"
    state, evidence = judge_probe("run_k", "t1", "t2", False)
    assert state == "not_supported" and "t1" in evidence and "t2" in evidence and "run_k" in evidence
    assert judge_probe("run_k", "t1", "t1", False)[0] == "not_supported"


@pytest.mark.parametrize("replayed", [True, False], ids=["replayed", "second-task"])
def test_probe_on_both_sides_sends_one_body_twice_under_one_key(
    make_client: Callable[..., Seedream], ledger: Ledger, replayed: bool
) -> None:
    second = created_response() if replayed else created_response("task-unified-1757165031-second")
    if replayed:
        second.headers["idempotency-replayed"] = "true"
    server = ScriptedServer(posts=[created_response(), second])
    support = make_client(server).probe_idempotency()
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 2 and posts[0].content == posts[1].content and len(set(keys_sent(server))) == 1
    assert b'"n":1' in posts[0].content
    assert support.state == ("supported" if replayed else "not_supported") and keys_sent(server)[0] in support.evidence
    assert sorted(str(e.state) for e in ledger.entries()) == (
        ["rejected", "submitted"] if replayed else ["submitted", "submitted"]
    )


def test_a_row_stored_redacted_is_not_replayed() -> None:
    from seedream._idempotency import body_digest, replay_blocker
    from seedream._ledger import redact_params

    sent = {"prompt": "x", "callback_url": "https://example.com/hook?token=secret"}
    stored = redact_params(sent)
    now = time.time()
    assert replay_blocker(key="run_k", stored_digest=body_digest(sent), params=sent, intent_at=now) is None
    why = replay_blocker(key="run_k", stored_digest=body_digest(sent), params=stored, intent_at=now)
    assert why is not None and "redacted" in why
    assert "no Idempotency-Key" in (replay_blocker(key=None, stored_digest=None, params=sent, intent_at=now) or "")
