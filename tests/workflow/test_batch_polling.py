"""Batch polling: the tasks one client waits for are asked about together (``POST /v1/tasks/batch``, <= 50 ids).

A scripted API (httpx.MockTransport: nothing leaves the process) answers the batch query and the task query from
one table of tasks, each completing on its n-th poll, and records every request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream import (
    AsyncSeedream,
    AsyncSeedreamAPI,
    Seedream,
    SeedreamAPI,
    TaskFailedError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from seedream._ledger import Ledger
from seedream._polling import PollPolicy

from .helpers import BASE_URL, SENTINEL_KEY, Sleeps, created_response, json_response, png_bytes, task_body

BATCH = "/v1/tasks/batch"


def task_id(i: int) -> str:
    return f"task-unified-1757165031-b{i:04d}"


@dataclass
class BatchAPI:
    """Tasks that complete on their ``polls[id]``-th poll; the batch endpoint answers ``batch_status`` if set."""

    polls: dict[str, int]
    estimated: dict[str, int] = field(default_factory=dict)
    batch_status: int | None = None
    omit: set[str] = field(default_factory=set)
    duplicate: bool = False
    foreign: bool = False
    fail: set[str] = field(default_factory=set)
    seen: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, list[str], float]] = field(default_factory=list)  # (path, ids, clock)
    clock: Any = None

    def body(self, tid: str) -> dict[str, Any]:
        self.seen[tid] = self.seen.get(tid, 0) + 1
        estimated = self.estimated.get(tid, 10)
        if self.seen[tid] < self.polls[tid]:
            return task_body("processing", task_id=tid, progress=10 * self.seen[tid], estimated=estimated)
        if tid in self.fail:
            return task_body("failed", task_id=tid, error={"code": "content_policy_violation", "message": "no"})
        return task_body("completed", task_id=tid, progress=100, results=["http://127.0.0.1:9/f.png"])

    def handler(self, request: httpx.Request) -> httpx.Response:
        now = self.clock() if self.clock is not None else 0.0
        if request.url.path == "/f.png":
            return httpx.Response(200, content=png_bytes(), headers={"content-type": "image/png"})
        if request.url.path == "/v1/images/generations":
            tid = task_id(len(self.polls))
            self.polls[tid] = 2
            return created_response(tid)
        if request.url.path == BATCH and request.method == "POST":
            ids = json.loads(request.content)["task_ids"]
            self.requests.append((BATCH, ids, now))
            if self.batch_status is not None:
                return json_response(self.batch_status, {"error": {"code": "not_found", "message": "no route"}})
            data = [self.body(tid) for tid in ids if tid in self.polls and tid not in self.omit]
            if self.duplicate and data:
                data.append(data[0])
            if self.foreign:
                data.append(task_body("completed", task_id=task_id(9999), results=["http://127.0.0.1:9/f.png"]))
            return json_response(200, {"data": data})
        tid = request.url.path.rsplit("/", 1)[1]
        self.requests.append(("GET", [tid], now))
        if tid not in self.polls:
            return json_response(404, {"error": {"code": "resource_not_found", "message": "gone", "type": "x"}})
        return json_response(200, self.body(tid))

    def count(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    def asked(self, tid: str) -> list[float]:
        return [at for _, ids, at in self.requests if tid in ids]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def sync_client(api: BatchAPI, ledger: Ledger, sleeps: Sleeps, **kwargs: Any) -> Seedream:
    api.clock = sleeps.clock
    guarded = SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=httpx.MockTransport(api.handler))
    kwargs.setdefault("polling", PollPolicy(jitter=0.0))
    transport = httpx.MockTransport(api.handler)
    return Seedream(
        base_url=BASE_URL,
        ledger=ledger,
        api=guarded,
        download_transport=transport,
        sleep=sleeps,
        clock=sleeps.clock,
        **kwargs,
    )


# -- the sync wait_many: one thread, batched polls --------------------------------------------------------------------


def test_wait_many_asks_about_up_to_50_tasks_per_request(ledger: Ledger, sleeps: Sleeps) -> None:
    ids = [task_id(i) for i in range(120)]
    api = BatchAPI(polls=dict.fromkeys(ids, 2))
    with sync_client(api, ledger, sleeps) as client:
        outcomes = client.wait_many(ids)

    assert [o.id for o in outcomes] == ids  # type: ignore[union-attr]
    assert all(len(asked) <= 50 for _, asked, _ in api.requests)
    assert api.count("GET") == 0
    # Two polls each, all due together: ceil(120 / 50) requests per round, two rounds.
    assert api.count(BATCH) == 2 * math.ceil(120 / 50)
    # Recorded as single queries are: the ledger knows every task ended completed.
    assert {ledger.get(tid).status for tid in ids} == {"completed"}  # type: ignore[union-attr]


def test_wait_many_reports_each_task_s_end_without_stopping_the_others(ledger: Ledger, sleeps: Sleeps) -> None:
    ids = [task_id(i) for i in range(3)]
    api = BatchAPI(polls=dict.fromkeys(ids, 2), fail={ids[1]})
    with sync_client(api, ledger, sleeps) as client:
        outcomes = client.wait_many(ids)

    assert isinstance(outcomes[1], TaskFailedError) and outcomes[1].code == "content_policy_violation"
    assert [o.status for i, o in enumerate(outcomes) if i != 1] == ["completed", "completed"]  # type: ignore[union-attr]


def test_each_task_keeps_its_own_schedule_and_is_never_polled_more_than_a_window_late(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    fast, slow = task_id(1), task_id(2)
    polls, estimated = {fast: 3, slow: 3}, {fast: 10, slow: 100}

    def alone(tid: str) -> list[float]:
        api = BatchAPI(polls={tid: polls[tid]}, estimated=estimated)
        start = sleeps.now
        with Ledger(tmp_path / f"{tid}.sqlite3") as ledger, sync_client(api, ledger, sleeps) as client:
            client.wait(tid)
        assert api.count(BATCH) == 0  # one task: the task query itself
        return [at - start for at in api.asked(tid)]

    expected = {tid: alone(tid) for tid in (fast, slow)}
    api = BatchAPI(polls=polls, estimated=estimated)
    start = sleeps.now
    with Ledger(tmp_path / "both.sqlite3") as ledger, sync_client(api, ledger, sleeps) as client:
        client.wait_many([fast, slow])

    window = PollPolicy().batch_window
    for tid in (fast, slow):
        got = [at - start for at in api.asked(tid)]
        assert len(got) == len(expected[tid]) == 3
        gaps = [b - a for a, b in itertools.pairwise(got)]
        gaps_alone = [b - a for a, b in itertools.pairwise(expected[tid])]
        for gap, own in zip(gaps, gaps_alone, strict=True):
            assert own <= gap <= own + window  # late by at most the window, never early
    # The slow task was not dragged along with the fast one's polls.
    assert len(api.asked(slow)) < len(api.requests)


def test_each_wait_s_own_deadline_holds_in_a_shared_query(ledger: Ledger, sleeps: Sleeps) -> None:
    ids = [task_id(1), task_id(2)]
    api = BatchAPI(polls=dict.fromkeys(ids, 10**6))  # never done
    start = sleeps.now
    with sync_client(api, ledger, sleeps) as client:
        outcomes = client.wait_many(ids, timeout=30)

    assert [type(o) for o in outcomes] == [WaitTimeoutError, WaitTimeoutError]
    last_poll = api.requests[-1][2]
    assert last_poll == pytest.approx(start + 30)  # one last poll at the deadline: no slot pushed it past
    assert sleeps.now <= start + 30 + 1e-9


@pytest.mark.parametrize("status", [404, 405])
def test_a_base_url_without_the_batch_endpoint_is_detected_once_and_polled_task_by_task(
    ledger: Ledger, sleeps: Sleeps, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [task_id(i) for i in range(4)]
    api = BatchAPI(polls=dict.fromkeys(ids, 3), batch_status=status)
    with caplog.at_level(logging.WARNING, logger="seedream.workflow"), sync_client(api, ledger, sleeps) as client:
        first = client.wait_many(ids[:2])
        second = client.wait_many(ids[2:])

    assert all(o.status == "completed" for o in first + second)  # type: ignore[union-attr]
    assert api.count(BATCH) == 1  # tried once, remembered for the client
    assert api.count("GET") == 4 * 3
    warnings = [r for r in caplog.records if "POST /v1/tasks/batch" in r.getMessage()]
    assert len(warnings) == 1 and f"HTTP {status}" in warnings[0].getMessage()


def test_tasks_a_batch_answer_leaves_out_are_asked_about_singly(ledger: Ledger, sleeps: Sleeps) -> None:
    ids = [task_id(i) for i in range(3)]
    api = BatchAPI(polls=dict.fromkeys(ids, 1), omit={ids[2]})
    with sync_client(api, ledger, sleeps) as client:
        outcomes = client.wait_many([*ids, task_id(99)])  # 99: unknown to the API

    assert [o.status for o in outcomes[:3]] == ["completed"] * 3  # type: ignore[union-attr]
    assert type(outcomes[3]).__name__ == "NotFoundError"  # the task query's 404 tells which
    assert sorted(ids for p, ids, _ in api.requests if p == "GET") == [[ids[2]], [task_id(99)]]


@pytest.mark.parametrize(("hostile", "message"), [("duplicate", "repeats task"), ("foreign", "not asked for")])
def test_a_batch_answer_repeating_a_task_or_naming_another_is_refused_and_nothing_is_recorded(
    ledger: Ledger, sleeps: Sleeps, hostile: str, message: str
) -> None:
    ids = [task_id(i) for i in range(2)]
    api = BatchAPI(polls=dict.fromkeys(ids, 1), duplicate=hostile == "duplicate", foreign=hostile == "foreign")
    with sync_client(api, ledger, sleeps) as client:
        outcomes = client.wait_many(ids)

    assert all(isinstance(o, UnexpectedResponseError) and message in str(o) for o in outcomes)
    assert all(ledger.get(tid) is None for tid in [*ids, task_id(9999)])


def test_resume_waits_for_every_unfinished_task_together(ledger: Ledger, sleeps: Sleeps, tmp_path: Path) -> None:
    api = BatchAPI(polls={})
    with sync_client(api, ledger, sleeps) as client:
        for i in range(3):
            client.submit(f"take {i}", directory=tmp_path / "out")
        outcomes = client.resume()

    assert [o.state for o in outcomes] == ["downloaded"] * 3
    assert api.count("GET") == 0 and api.count(BATCH) == 2  # two polls each, all three in each request
    assert all(len(ids) == 3 for p, ids, _ in api.requests if p == BATCH)


# -- the async client: concurrent waits share one poller --------------------------------------------------------------


def test_concurrent_async_waits_on_one_client_share_batch_queries(ledger: Ledger) -> None:
    count, rounds = 130, 2
    ids = [task_id(i) for i in range(count)]
    api = BatchAPI(polls=dict.fromkeys(ids, rounds))

    async def main() -> list[Any]:
        guarded = AsyncSeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=httpx.MockTransport(api.handler))
        # Real (short) sleeps: the waits run side by side on the event loop.
        async with AsyncSeedream(
            base_url=BASE_URL, ledger=ledger, api=guarded, polling=PollPolicy().scaled(0.01), rng=random.Random(1)
        ) as client:
            return list(await asyncio.gather(*(client.wait(tid) for tid in ids)))

    done = asyncio.run(main())

    assert [d.status for d in done] == ["completed"] * count
    assert all(len(asked) <= 50 for _, asked, _ in api.requests)
    assert sum(len(asked) for _, asked, _ in api.requests) == count * rounds  # each task asked exactly per its plan
    # Without sharing: count * rounds = 260 requests. Shared: about ceil(130 / 50) per round, a few more when the
    # waits' registrations straddle slots (real time, a loaded machine): bounded loosely, never timed.
    assert len(api.requests) <= count * rounds / 5


def test_a_lone_async_wait_uses_the_task_query(ledger: Ledger, sleeps: Sleeps) -> None:
    tid = task_id(1)
    api = BatchAPI(polls={tid: 2})
    api.clock = sleeps.clock

    async def main() -> str:
        guarded = AsyncSeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=httpx.MockTransport(api.handler))
        async with AsyncSeedream(
            base_url=BASE_URL, ledger=ledger, api=guarded, sleep=sleeps.asleep, clock=sleeps.clock
        ) as client:
            return str((await client.wait(tid)).status)

    assert asyncio.run(main()) == "completed"
    assert api.count(BATCH) == 0 and api.count("GET") == 2
