"""1,000 tasks through a faulty simulator: every confirmed task completes, none is charged twice, none is lost.

The simulator runs in-process (ASGI, 1,000 tasks) and under uvicorn on
127.0.0.1 (200 tasks in CI; 5,000 each with ``--thorough``), with 20 % of API requests
answered 429, 5 % 5xx, 2 % dropped connections and 1 % held long enough for
the client's read timeout to fire. ``AsyncSeedream`` submits and waits for
every task concurrently with its default retry ladder (delays scaled down with
the simulator's clock); a submission refused provably before anything was
created (429 after all attempts, connection refused, an admission refusal) is
resubmitted, as a caller would.

Each run starts with ``probe_idempotency()`` (through the same faults) and runs twice:

* ``keys="honoured"``: the probe establishes ``Idempotency-Key`` support, every
  POST whose answer was lost is replayed with its own key, and the few rows
  still ``unconfirmed`` after the ladder are recovered by ``recover_unconfirmed``
  (what ``resume`` does first): **0 unconfirmed rows, 0 charged twice**;
* ``keys="ignored"``: the simulator ignores keys, the probe finds it out (its
  second POST is charged: that is the finding), and no POST that may have
  reached the server is ever replayed: **still 0 charged twice**.

Every submission attempt carries its own prompt, and a thin wrapper around the
simulator's ``create_task`` records which prompt created which task and at
what price, so the books can be compared exactly:

* 0 charged twice: no prompt created more than one task (a probe's under ignored keys: two, by design), and the
  simulator's
  ``tasks_created`` / ``credits_charged`` counters equal what the wrapper saw;
* 0 lost: every task the simulator created is in the ledger, under its id, or
  as the ``unconfirmed`` row of the very request that created it (the answer
  was lost: a 5xx or a dropped connection *after* the server acted); no
  ``rejected`` row ever created a task;
* 100 % complete: every ledger row holding a task id ends ``completed``.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream import (
    APIError,
    AsyncSeedream,
    Ledger,
    PollPolicy,
    RetryPolicy,
    SeedreamError,
)
from seedream._idempotency import PROBE_PROMPT
from seedream._ledger import TaskState
from seedream.simulator import SimulatorApp, SimulatorConfig, create_app, run_simulator

from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY, sha256

pytestmark = pytest.mark.reliability

SCALE = 0.002  # a 14-simulated-second task takes 28 ms
READ_TIMEOUT = 1.0  # real seconds
HOLD = 3.0  # real seconds a "timeout" request is held: well past READ_TIMEOUT
CONCURRENCY = 50
CREDITS_PER_IMAGE = 1.8


class Loopback(httpx.AsyncHTTPTransport):
    """The real transport, counting the requests that leave per route."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent[_route(request)] += 1
        return await super().handle_async_request(request)


class InProcess(httpx.ASGITransport):
    """The simulator app in-process, counting requests per route and enforcing the read timeout.

    ``httpx.ASGITransport`` ignores timeouts; here a request the app holds past the read timeout raises
    ``httpx.ReadTimeout`` (and is cancelled, as a server drops work for a client that hung up).
    """

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.sent: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent[_route(request)] += 1
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(super().handle_async_request(request), timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("the in-process app did not answer in time", request=request) from None


def _route(request: httpx.Request) -> str:
    return f"{request.method} {'tasks' if '/v1/tasks/' in request.url.path else request.url.path}"


@dataclass
class Setup:
    where: str
    app: SimulatorApp
    base_url: str
    transport: Loopback | InProcess


@pytest.fixture(params=["honoured", "ignored"])
def keys(request: pytest.FixtureRequest) -> str:
    """Whether the simulator honours ``Idempotency-Key`` (the probe then establishes it) or ignores keys."""
    return str(request.param)


@pytest.fixture(params=["in-process", "loopback"])
def setup(request: pytest.FixtureRequest, keys: str) -> Iterator[Setup]:
    config = SimulatorConfig.for_tests(
        honour_idempotency_keys=keys == "honoured",
        api_keys=(SENTINEL_KEY,),
        time_scale=SCALE,
        seed=7_000_003,
        fault_429=0.20,
        fault_5xx=0.05,
        fault_drop=0.02,
        fault_latency=HOLD / SCALE,
        fault_latency_rate=0.01,
        credits_per_image=CREDITS_PER_IMAGE,
    )
    if request.param == "loopback":  # uvicorn in a thread: real sockets, real timeouts, really dropped connections
        with run_simulator(config) as server:
            yield Setup("loopback", server.app, server.base_url, Loopback())
    else:  # the same app in-process: several times faster on two shared cores
        with create_app(config) as app:
            yield Setup("in-process", app, "http://127.0.0.1:9", InProcess(app))


def _record_creations(app: SimulatorApp) -> dict[str, list[tuple[str, float]]]:
    """prompt -> [(task id, credits)] for every task the simulator creates from now on."""
    created: dict[str, list[tuple[str, float]]] = {}
    engine = app.simulator
    original = engine.create_task

    def create_task(request: Any, **kwargs: Any) -> Any:
        task = original(request, **kwargs)
        created.setdefault(request.prompt, []).append((task.id, request.n * CREDITS_PER_IMAGE))
        return task

    engine.create_task = create_task  # type: ignore[method-assign]
    return created


def _rejected(ledger: Ledger, local_id: str) -> bool:
    """Whether the client recorded the failed submission as provably creating nothing (safe to send again)."""
    return any(entry.local_id == local_id for entry in ledger.entries(states=[TaskState.REJECTED]))


def _is_probe(prompt: str) -> bool:
    return prompt.startswith(PROBE_PROMPT)


def test_a_thousand_tasks_through_a_faulty_simulator_complete_none_charged_twice_none_lost(
    setup: Setup, keys: str, thorough: bool, figures: Figures, witness: SecretWitness, tmp_path: Path
) -> None:
    # Over real loopback sockets the same run costs about four times the CPU: CI takes a smaller sample there.
    total = 5_000 if thorough else (1_000 if setup.where == "in-process" else 200)
    created = _record_creations(setup.app)
    transport = setup.transport
    outcome: Counter[str] = Counter()
    completed_ids: dict[str, str] = {}  # prompt -> task id of the completed task
    rng = random.Random(7_000_004)
    sizes = {i: rng.choice([1, 1, 1, 2, 3]) for i in range(total)}
    started = time.perf_counter()
    # In memory: with a file, each of the ~4 writes per task is an fsync (synchronous=FULL), about 13 ms each
    # on this machine, which triples the run; the ledger's logic is the same. Crash durability is what the
    # SIGKILL test measures, with real files.
    ledger = Ledger(":memory:")

    async def one(client: AsyncSeedream, gate: asyncio.Semaphore, index: int) -> None:
        async with gate:
            response = None
            for attempt in range(4):
                prompt = f"reliability task {index} attempt {attempt}"
                row = uuid.uuid4().hex
                try:
                    response = await client.submit(prompt, n=sizes[index], ledger_id=row)
                    break
                except SeedreamError as error:
                    witness.see_error(error)
                    # The ledger row says whether it is safe to send again: the last error alone does not (a 429
                    # after an attempt whose answer was lost leaves the row unconfirmed).
                    if not _rejected(ledger, row):
                        outcome["submit unconfirmed after the ladder"] += 1
                        return
                    outcome["submit refused, resubmitted"] += 1
            if response is None:
                outcome["submit refused 4 times"] += 1
                return
            for round_ in range(4):
                try:
                    task = await client.wait(response, timeout=60)
                except APIError as error:  # the GET ladder gave up on a run of faults: the task goes on
                    witness.see_error(error)
                    outcome["wait gave up on transient errors, waited again"] += 1
                    continue
                completed_ids[prompt] = str(task.id)
                outcome[f"completed after {round_ + 1} wait call(s)"] += 1
                return
            outcome["never completed"] += 1

    probe: dict[str, Any] = {"attempts": 0, "verdict": None, "recovered": 0, "recovery_rounds": 0}

    async def establish(client: AsyncSeedream) -> None:
        # Through the same faults: a probe that cannot finish is run again (each with a fresh key).
        for _ in range(6):
            probe["attempts"] += 1
            try:
                probe["verdict"] = (await client.probe_idempotency()).state
                return
            except SeedreamError as error:
                witness.see_error(error)

    async def recover(client: AsyncSeedream) -> None:
        # What `resume` does first: replay the rows still unconfirmed after the ladder, then wait for their tasks.
        for _ in range(4):
            outcomes = await client.recover_unconfirmed()
            if not outcomes:
                return
            probe["recovery_rounds"] += 1
            for item in outcomes:
                if item.state != "submitted" or item.task_id is None:
                    continue
                probe["recovered"] += 1
                entry = client.ledger.get(item.task_id)
                assert entry is not None
                for _attempt in range(4):
                    try:
                        task = await client.wait(item.task_id, timeout=60)
                    except APIError as error:
                        witness.see_error(error)
                        continue
                    if not _is_probe(str(entry.params["prompt"])):
                        completed_ids[str(entry.params["prompt"])] = str(task.id)
                        outcome["completed after recovery by replaying its key"] += 1
                    break
                else:
                    outcome["never completed"] += 1

    async def run() -> list[Any]:
        retry = RetryPolicy(base_delay=0.01, max_delay=0.2)  # the default ladder, its delays scaled down
        async with AsyncSeedream(
            SENTINEL_KEY,
            base_url=setup.base_url,
            download_transport=transport if isinstance(transport, InProcess) else None,
            ledger=ledger,
            timeout=httpx.Timeout(READ_TIMEOUT, connect=5.0),
            transport=transport,
            polling=PollPolicy().scaled(SCALE),
            retry=retry,
            allow_internal_result_hosts=True,  # the simulator's result links name 127.0.0.1
        ) as client:
            witness.see(repr(client.api))
            await establish(client)
            assert client.idempotency.established == (keys == "honoured")
            gate = asyncio.Semaphore(CONCURRENCY)
            await asyncio.gather(*(one(client, gate, i) for i in range(total)))
            await recover(client)
            # A sample is downloaded and checked against the bytes the simulator serves.
            sample = sorted(completed_ids.items())[:: max(1, len(completed_ids) // 20)]
            return [await download(client, task_id) for _, task_id in sample]

    async def download(client: AsyncSeedream, task_id: str) -> Any:
        # Downloads meet the same 20 % of faults; a caller calls again after the ladder gives up (a
        # download charges nothing), as `one` does for waits: 4 faults in a row must not fail the figure.
        for _ in range(3):
            try:
                return await client.download(task_id, tmp_path / "images")
            except SeedreamError as error:
                witness.see_error(error)
                outcome["download gave up on transient errors, downloaded again"] += 1
        return await client.download(task_id, tmp_path / "images")

    try:
        downloads = asyncio.run(run())
        # Requests held past the client's timeout are counted when the simulator is done with them.
        deadline = time.monotonic() + HOLD + 10
        while time.monotonic() < deadline and _answered(setup.app) < transport.sent["POST /v1/images/generations"]:
            time.sleep(0.05)
        entries = ledger.entries()
    finally:
        ledger.close()
    wall = time.perf_counter() - started
    counters = setup.app.counters()

    # -- 0 charged twice ---------------------------------------------------------------------------------------
    # The probe's own second POST creates a second task where keys are ignored: that is its finding, on the books.
    allowed = {p: 2 if keys == "ignored" and _is_probe(p) else 1 for p in created}
    twice = {prompt: tasks for prompt, tasks in created.items() if len(tasks) > allowed[prompt]}
    assert twice == {}
    created_ids = {task_id: prompt for prompt, tasks in created.items() for task_id, _ in tasks}
    charged = sum(credits for tasks in created.values() for _, credits in tasks)
    assert counters["tasks_created"] == len(created_ids)
    assert counters["credits_charged"] == pytest.approx(charged)

    # -- 0 lost ------------------------------------------------------------------------------------------------
    probe_rows = [entry for entry in entries if _is_probe(str(entry.params["prompt"]))]
    probe_ids = {entry.task_id for entry in probe_rows if entry.task_id}
    probe_created = {task_id for p, tasks in created.items() if _is_probe(p) for task_id, _ in tasks}
    probe_unconfirmed = [entry for entry in probe_rows if entry.state == TaskState.UNCONFIRMED]
    assert probe_created <= probe_ids or probe_unconfirmed  # a probe's tasks are on the books like any other
    entries = [entry for entry in entries if entry not in probe_rows]
    created = {p: tasks for p, tasks in created.items() if not _is_probe(p)}
    rows = {str(entry.params["prompt"]): entry for entry in entries}
    assert len(rows) == len(entries)  # one ledger row per submission attempt
    lost = [prompt for prompt in map(str, created) if prompt not in rows]
    assert lost == []
    misfiled = [
        (prompt, rows[prompt].state, rows[prompt].task_id)
        for prompt, tasks in created.items()
        if rows[prompt].task_id != tasks[0][0] and rows[prompt].state != TaskState.UNCONFIRMED
    ]
    assert misfiled == []
    states = Counter(str(entry.state) for entry in entries)
    rejected_but_created = [p for p, e in rows.items() if e.state == TaskState.REJECTED and p in created]
    assert rejected_but_created == []
    unconfirmed_created = sum(1 for p, e in rows.items() if e.state == TaskState.UNCONFIRMED and p in created)
    with_id = [entry for entry in entries if entry.task_id]
    assert len(with_id) + unconfirmed_created == counters["tasks_created"] - len(probe_created)
    if keys == "honoured":  # every lost answer was recovered by a replay of its key
        assert states["unconfirmed"] == 0 and probe_unconfirmed == []

    # -- 100 % complete ----------------------------------------------------------------------------------------
    unfinished = [(e.task_id, e.state, e.status) for e in with_id if e.state not in ("completed", "downloaded")]
    assert unfinished == []
    assert {e.task_id for e in with_id} == set(completed_ids.values())
    assert outcome["never completed"] == 0 and outcome["submit refused 4 times"] == 0

    # -- the downloaded sample is byte for byte what the simulator serves ---------------------------------------
    engine = setup.app.simulator
    checked = 0
    for files in downloads:
        for saved in files:
            task = engine.get_task(saved.task_id)
            assert task is not None
            expected = engine.file_bytes(task.files[saved.index])
            assert saved.path.read_bytes() == expected and saved.sha256 == sha256(expected)
            checked += 1
        assert len(files) == len(engine.get_task(files[0].task_id).files)  # type: ignore[union-attr]

    figures.update(
        simulator=setup.where,
        idempotency_keys=keys,
        probe_verdict=probe["verdict"],
        probe_attempts=probe["attempts"],
        recovered_by_recover_unconfirmed=probe["recovered"],
        recovery_rounds=probe["recovery_rounds"],
        simulator_idempotency=counters["idempotency"],
        submissions=total,
        post_attempts=transport.sent["POST /v1/images/generations"],
        task_queries=transport.sent["GET tasks"],
        tasks_created=counters["tasks_created"],
        credits_charged=counters["credits_charged"],
        completed=len(completed_ids),
        completion_rate_of_tasks_with_an_id=f"{len(completed_ids)}/{len(with_id)}",
        charged_twice=len(twice),
        lost=len(lost),
        unconfirmed_rows=states["unconfirmed"],
        unconfirmed_rows_that_created_a_task=unconfirmed_created,
        rejected_rows=states["rejected"],
        outcomes=dict(sorted(outcome.items())),
        simulator_faults=counters["faults"],
        simulator_requests=counters["requests"],
        downloads_checked=f"{checked} images of {len(downloads)} tasks",
        run_wall_s=round(wall, 1),
    )


def _answered(app: SimulatorApp) -> int:
    return sum(app.counters()["requests"].get("POST /v1/images/generations", {}).values())
