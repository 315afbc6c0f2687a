"""`run_batch` against the simulator on 127.0.0.1: resuming by line, the budget, dry runs, failures by code."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedream._async._workflow import AsyncSeedream
from seedream._batch import AIMDLimiter, BatchReport, read_batch, run_batch
from seedream._errors import LedgerError, RequestValidationError
from seedream._ledger import Ledger
from seedream._polling import PollPolicy
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import KEY

SCALE = 0.01


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=SCALE, seed=14_000_002)) as server:
        yield server


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _run(server: RunningSimulator, ledger: Path, batch: Path, **kwargs: Any) -> BatchReport:
    async def go() -> BatchReport:
        client = AsyncSeedream(KEY, base_url=server.base_url, ledger=ledger, polling=PollPolicy().scaled(SCALE))
        async with client:
            return await run_batch(client, batch, directory=batch.parent / "images", **kwargs)

    return asyncio.run(go())


def _prompt(i: int) -> str:
    return f"a red kite over dunes {i} [sim:duration=3]"


def test_dry_run_sends_nothing_and_prices_every_image_at_the_configured_rate(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    rows = [{"prompt": _prompt(i), "n": i + 1} for i in range(4)] + [{"prompt": "web", "web_search": True}]
    batch = _write(tmp_path / "b.jsonl", rows)
    report = _run(simulator, tmp_path / "l.sqlite3", batch, dry_run=True, credits_per_image=3.0)
    assert simulator.counters()["requests"] == {}
    assert report.estimate.images == 1 + 2 + 3 + 4 + 1
    assert report.estimate.credits == pytest.approx(11 * 3.0 + 0.04)
    assert {line.state for line in report.lines} == {"not_sent"}
    assert "balance not checked" in report.estimate.balance_note


def test_max_credits_below_the_estimate_refuses_before_anything_is_sent(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(i), "n": 2} for i in range(3)])
    with pytest.raises(RequestValidationError) as caught:
        _run(simulator, tmp_path / "l.sqlite3", batch, max_credits=10.0)
    assert caught.value.field == "max_credits" and "13.2 credits" in caught.value.rule
    assert simulator.counters()["requests"] == {}


def test_a_balance_probe_below_the_estimate_refuses_before_sending(simulator: RunningSimulator, tmp_path: Path) -> None:
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(0)}])

    async def balance() -> float:
        return 1.0

    with pytest.raises(RequestValidationError) as caught:
        _run(simulator, tmp_path / "l.sqlite3", batch, balance=balance)
    assert caught.value.field == "balance"
    assert simulator.counters()["requests"] == {}


def test_strict_stops_before_sending_when_a_line_is_invalid(simulator: RunningSimulator, tmp_path: Path) -> None:
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(0)}, {"prompt": _prompt(1), "n": 0}])
    with pytest.raises(RequestValidationError) as caught:
        _run(simulator, tmp_path / "l.sqlite3", batch, strict=True)
    assert caught.value.field == "line 2: n"
    assert simulator.counters()["requests"] == {}


def test_without_strict_valid_lines_run_and_invalid_ones_are_reported(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(0)}, {"prompt": _prompt(1), "size": "7x7"}])
    report = _run(simulator, tmp_path / "l.sqlite3", batch)
    assert [(line.line, line.state) for line in report.lines] == [(1, "done"), (2, "invalid")]
    assert simulator.counters()["tasks_created"] == 1


def test_rerun_skips_finished_lines_and_a_line_inserted_on_top_is_the_only_one_sent(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    ledger = tmp_path / "l.sqlite3"
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(i)} for i in range(3)])
    first = _run(simulator, ledger, batch)
    assert [line.state for line in first.lines] == ["done"] * 3
    _write(batch, [{"prompt": _prompt(99)}] + [{"prompt": _prompt(i)} for i in range(3)])
    second = _run(simulator, ledger, batch)
    assert simulator.counters()["tasks_created"] == 4
    assert [(line.state, line.previously) for line in second.lines] == [("done", None)] + [("done", "downloaded")] * 3
    assert [line.task_id for line in second.lines[1:]] == [line.task_id for line in first.lines]


def test_identical_lines_are_two_paid_requests_and_each_is_resumed_as_itself(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    ledger = tmp_path / "l.sqlite3"
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(7)}, {"prompt": _prompt(7)}])
    first = _run(simulator, ledger, batch)
    second = _run(simulator, ledger, batch)
    assert simulator.counters()["tasks_created"] == 2
    assert len({line.task_id for line in first.lines}) == 2
    assert [line.task_id for line in second.lines] == [line.task_id for line in first.lines]


def test_a_line_whose_post_may_have_arrived_is_never_sent_again(simulator: RunningSimulator, tmp_path: Path) -> None:
    ledger_path = tmp_path / "l.sqlite3"
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(0)}, {"prompt": _prompt(1)}])
    (unsure, unsent) = read_batch(batch).lines
    with Ledger(ledger_path) as ledger:
        bid = _batch_id(simulator, batch)
        # Line 1: its POST left and the answer was lost. Line 2: the process died before writing the intent.
        ledger.record_batch_line(bid, unsure.key, line_no=1, line_hash=unsure.line_hash, local_id="row-1")
        ledger.record_intent(base_url=simulator.base_url, params={"prompt": unsure.prompt}, directory=None,
                             local_id="row-1")  # fmt: skip
        ledger.record_submit_failed("row-1", may_exist=True, error="read timeout")
        ledger.record_batch_line(bid, unsent.key, line_no=2, line_hash=unsent.line_hash, local_id="never-written")
    report = _run(simulator, ledger_path, batch)
    assert [line.state for line in report.lines] == ["unconfirmed", "done"]
    assert simulator.counters()["tasks_created"] == 1


def _batch_id(server: RunningSimulator, batch: Path) -> str:
    from seedream._batch import batch_id_for

    return batch_id_for(batch, server.base_url)


def test_failures_are_summarised_by_vendor_code(simulator: RunningSimulator, tmp_path: Path) -> None:
    rows = [
        {"prompt": "a [sim:fail=content_policy_violation] [sim:duration=2]"},
        {"prompt": "b [sim:fail=content_policy_violation] [sim:duration=2]"},
        {"prompt": "c [sim:fail=service_error] [sim:duration=2]"},
        {"prompt": _prompt(1)},
    ]
    report = _run(simulator, tmp_path / "l.sqlite3", _write(tmp_path / "b.jsonl", rows))
    assert report.failures_by_code() == {"content_policy_violation": 2, "service_error": 1}
    assert report.counts() == {"done": 1, "failed": 3}


def test_aimd_window_halves_on_a_throttle_once_per_pause_and_grows_back_by_one_per_window() -> None:
    now = [0.0]
    limiter = AIMDLimiter(16, initial=8, clock=lambda: now[0])
    limiter.on_throttle(2.0)
    limiter.on_throttle(1.0)  # the same burst: no second halving, the longer pause kept
    assert limiter.limit == 4 and limiter.delay() == 2.0
    now[0] = 2.5
    assert limiter.delay() == 0.0
    for _ in range(4):  # one window's worth of successes adds about one
        limiter.on_success()
    assert 4.9 < limiter.window < 5.0
    limiter.on_success()
    assert limiter.limit == 5
    for _ in range(200):
        limiter.on_success()
    assert limiter.limit == 16  # capped at the maximum
    for _ in range(10):
        now[0] += 10
        limiter.on_throttle(None)
    assert limiter.limit == 1  # never below one line in flight


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks are POSIX here")
def test_a_second_run_of_the_same_batch_at_the_same_time_is_refused_before_sending(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    import fcntl

    ledger = tmp_path / "l.sqlite3"
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(0)}])
    with Ledger(ledger):
        pass
    lock = tmp_path / f"l.sqlite3.batch-{_batch_id(simulator, batch)}.lock"
    with open(lock, "a+") as held:  # stands for another process in the middle of this batch
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(LedgerError, match="another process"):
            _run(simulator, ledger, batch)
        assert simulator.counters()["requests"] == {}
        assert _run(simulator, ledger, batch, dry_run=True).estimate.lines == 1  # a dry run sends nothing: allowed
    assert [line.state for line in _run(simulator, ledger, batch).lines] == ["done"]


def test_a_rate_limited_account_slows_the_batch_down_and_every_line_still_finishes_once(tmp_path: Path) -> None:
    # 15 requests per real second for the key: 30 lines (a POST and polls each) cannot all go at once.
    config = SimulatorConfig.for_tests(
        api_keys=(KEY,), time_scale=SCALE, seed=14_000_005, rate_limit=15, rate_limit_window=100.0
    )
    batch = _write(tmp_path / "b.jsonl", [{"prompt": _prompt(i)} for i in range(30)])
    with run_simulator(config) as server:
        report = _run(server, tmp_path / "l.sqlite3", batch, concurrency=16)
        counters = server.counters()
    assert counters["faults"]["rate_limited"] > 0
    assert report.throttles > 0  # the window was halved at least once
    assert report.counts() == {"done": 30}
    assert counters["tasks_created"] == 30  # a refused POST created nothing, and was sent again
