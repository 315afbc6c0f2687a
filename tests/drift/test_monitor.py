"""The client's drift monitor: one ``Seedream.generate`` against a drifted simulator records the drift.

Each case of the battery drifts the simulator's real answers on their way to
the client (``DriftingTransport`` over a transport to the simulator on
127.0.0.1). A small rig makes the simulator give the answer a case drifts:
an error case needs a request the client would never send (a body without a
prompt for a 400, a wrong key on the task query for a 401), or a fault (429,
500). ``generate`` may then fail as it must; the drift is recorded either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from seedream import AsyncSeedream, Seedream, _drift
from seedream._cli import app
from seedream._drift import DriftMonitor
from seedream._errors import SeedreamError, WaitTimeoutError
from seedream._ledger import Ledger
from seedream._polling import PollPolicy
from seedream._retry import RetryPolicy
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator
from seedream.testing._drift_cases import CASES, DriftCase, DriftingTransport

KEY = "sk-test"
SCALE = 0.02
PROMPT = {
    None: "a lighthouse [sim:duration=1]",
    "completed": "a lighthouse [sim:duration=1]",
    "processing": "a lighthouse [sim:duration=40]",
    "failed": "a lighthouse [sim:fail=content_policy_violation]",
}


class _Rig(httpx.BaseTransport):
    """Makes the simulator give the answer ``case`` drifts: the request changed, or a 500 picked among faults."""

    def __init__(self, case: DriftCase) -> None:
        self.inner = httpx.HTTPTransport()
        self.case = case

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        case = self.case
        posting = request.method == "POST"
        if posting and case.operation == "createImageGeneration" and case.status == 400:
            body = {k: v for k, v in json.loads(request.read()).items() if k != "prompt"}  # the simulator's 400
            kept = [(k, v) for k, v in request.headers.items() if k.lower() != "content-length"]
            request = httpx.Request("POST", request.url, headers=kept, json=body)
        if not posting and case.operation == "getTaskDetail" and case.status == 401:
            headers = httpx.Headers(request.headers)
            headers["Authorization"] = "Bearer wrong-key"
            request = httpx.Request("GET", request.url, headers=headers)
        for _ in range(40):  # injected 5xx faults vary their status: the rig asks until it gets a 500
            response = self.inner.handle_request(request)
            if case.status != 500 or response.status_code == 500:
                return response
            response.read()
            response.close()
        raise AssertionError("the simulator gave no 500 in 40 tries")

    def close(self) -> None:
        self.inner.close()


def _config(case: DriftCase) -> SimulatorConfig:
    faults = {"fault_429": 1.0} if case.status == 429 else {"fault_5xx": 1.0} if case.status == 500 else {}
    return SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=SCALE, **faults)


@pytest.fixture(scope="module")
def plain_simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=SCALE)) as server:
        yield server


def _generate(server: RunningSimulator, case: DriftCase, ledger: Ledger, tmp_path: Path) -> tuple[int, Any]:
    """One ``generate`` through the drift; how many answers were drifted, and what ``generate`` raised."""
    drifting = DriftingTransport(_Rig(case), case)
    client = Seedream(
        KEY,
        base_url=server.base_url,
        ledger=ledger,
        transport=drifting,
        polling=PollPolicy().scaled(SCALE),
        retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0, retry_after_cap=0.0),
        allow_internal_result_hosts=True,
    )
    with client:
        try:
            client.generate(PROMPT[case.task_status], directory=tmp_path, timeout=1.5)
        except SeedreamError as error:
            return drifting.drifted, error
    return drifting.drifted, None


def _run(case: DriftCase, plain: RunningSimulator, ledger: Ledger, tmp_path: Path) -> tuple[int, Any]:
    if case.status in (429, 500):
        with run_simulator(_config(case)) as server:
            return _generate(server, case, ledger, tmp_path)
    return _generate(plain, case, ledger, tmp_path)


def _drift_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "seedream.drift" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("case", [c for c in CASES if c.drift], ids=[c.name for c in CASES if c.drift])
def test_one_generate_against_a_drifted_simulator_records_the_drift_once_per_kind(
    case: DriftCase,
    plain_simulator: RunningSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="seedream.drift")
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        drifted, _ = _run(case, plain_simulator, ledger, tmp_path / "out")
        rows = ledger.drift()
    assert drifted >= 1, f"the scenario never produced the answer {case.name!r} drifts"
    found = {(r.operation, r.pointer, r.kind) for r in rows}
    assert {(case.operation, p, k) for p, k in case.expect} <= found, rows
    for row in rows:
        assert row.count >= 1 and row.first_seen <= row.last_seen and row.example
        assert "/files/" not in row.example and "?" not in row.example  # a URL shows its host only
    warnings = _drift_warnings(caplog)
    assert len(warnings) == len(rows), warnings  # one per kind, however often it was seen
    for row in rows:
        assert sum(row.operation in w and f"{row.pointer or '(answer)'} {row.kind}" in w for w in warnings) == 1


@pytest.mark.parametrize("case", [c for c in CASES if not c.drift], ids=[c.name for c in CASES if not c.drift])
def test_an_allowed_change_records_nothing(
    case: DriftCase, plain_simulator: RunningSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="seedream.drift")
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        drifted, _ = _run(case, plain_simulator, ledger, tmp_path / "out")
        assert drifted >= 1, f"the scenario never produced the answer {case.name!r} changes"
        assert ledger.drift() == []
    assert _drift_warnings(caplog) == []


def test_a_wait_that_times_out_on_a_drifted_status_says_the_api_drifted(
    plain_simulator: RunningSimulator, tmp_path: Path
) -> None:
    [case] = [c for c in CASES if c.name == "task status value renamed"]
    with Ledger(":memory:") as ledger:
        _, error = _generate(plain_simulator, case, ledger, tmp_path)
    assert isinstance(error, WaitTimeoutError)
    assert any("/status unknown-enum" in d and '"succeeded"' in d for d in error.drift), error.drift
    assert "drifted from the spec" in str(error) and "seedream drift" in str(error)


def test_a_failing_monitor_never_breaks_a_call(
    plain_simulator: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("monitor bug")

    monkeypatch.setattr(_drift, "check_body", broken)
    caplog.set_level(logging.DEBUG, logger="seedream.drift")
    with (
        Ledger(":memory:") as ledger,
        Seedream(
            KEY,
            base_url=plain_simulator.base_url,
            ledger=ledger,
            polling=PollPolicy().scaled(SCALE),
            allow_internal_result_hosts=True,
        ) as client,
    ):
        result = client.generate(PROMPT[None], directory=tmp_path)
    assert len(result.files) == 1
    failures = [r for r in caplog.records if r.name == "seedream.drift" and "monitor failed" in r.getMessage()]
    assert failures[0].levelno == logging.WARNING and failures[0].exc_info is not None
    assert all(r.levelno == logging.DEBUG for r in failures[1:]) and len(failures) >= 2


def test_a_failing_sink_never_breaks_a_call_and_the_registry_keeps_the_drift(
    plain_simulator: RunningSimulator, tmp_path: Path
) -> None:
    [case] = [c for c in CASES if c.name == "create object value changed"]
    with Ledger(":memory:") as ledger:
        client = Seedream(
            KEY,
            base_url=plain_simulator.base_url,
            ledger=ledger,
            transport=DriftingTransport(httpx.HTTPTransport(), case),
            polling=PollPolicy().scaled(SCALE),
            allow_internal_result_hosts=True,
        )
        monitor = client.api.drift_monitor
        assert monitor is not None and monitor.sink == ledger.record_drift  # the sync client writes directly

        def full(sightings: Any) -> None:
            raise OSError("disk full")

        monitor.sink = full
        with client:
            result = client.generate(PROMPT[None], directory=tmp_path)
    assert len(result.files) == 1
    assert [(r.pointer, r.kind, r.example) for r in monitor.records()] == [
        ("/object", "unknown-enum", '"image_generation"')
    ]


def test_with_the_monitor_off_nothing_is_judged(plain_simulator: RunningSimulator, tmp_path: Path) -> None:
    [case] = [c for c in CASES if c.name == "create object value changed"]
    with Ledger(":memory:") as ledger:
        client = Seedream(
            KEY,
            base_url=plain_simulator.base_url,
            ledger=ledger,
            transport=DriftingTransport(httpx.HTTPTransport(), case),
            polling=PollPolicy().scaled(SCALE),
            allow_internal_result_hosts=True,
        )
        client.api.drift_monitor = None
        with client:
            client.generate(PROMPT[None], directory=tmp_path)
        assert ledger.drift() == []


def test_the_registry_aggregates_sightings_without_a_ledger() -> None:
    times = iter([10.0, 20.0])
    monitor = DriftMonitor(clock=lambda: next(times))
    request = httpx.Request("GET", "http://127.0.0.1:9/v1/tasks/task-unified-1-abc")
    for _ in range(2):
        answer = httpx.Response(200, json={"status": "succeeded"}, request=request)
        monitor.observe("getTaskDetail", answer, answer.json())
    [status] = [r for r in monitor.records() if r.pointer == "/status"]
    assert (status.count, status.first_seen, status.last_seen, status.task_id) == (2, 10.0, 20.0, "task-unified-1-abc")
    assert status in monitor.for_task("task-unified-1-abc") and monitor.for_task("task-unified-2") == []


def test_seedream_drift_prints_the_recorded_drift_as_a_table_and_json_and_clears_it(
    plain_simulator: RunningSimulator, tmp_path: Path
) -> None:
    [case] = [c for c in CASES if c.name == "create created in milliseconds"]
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        _generate(plain_simulator, case, ledger, tmp_path)
    runner = CliRunner()
    table = runner.invoke(app, ["drift", "--ledger", str(path)])
    assert table.exit_code == 0, table.output
    assert "createImageGeneration" in table.output and "/created" in table.output
    assert "out-of-range" in table.output and "1757165031000" in table.output
    as_json = runner.invoke(app, ["drift", "--ledger", str(path), "--json", "--clear"])
    assert as_json.exit_code == 0, as_json.output
    [row] = [r for r in json.loads(as_json.stdout) if r["pointer"] == "/created"]
    assert (row["operation"], row["kind"], row["example"], row["count"]) == (
        "createImageGeneration",
        "out-of-range",
        "1757165031000",
        1,
    )
    empty = runner.invoke(app, ["drift", "--ledger", str(path)])
    assert empty.exit_code == 0 and "no drift recorded" in empty.output


def test_the_async_client_records_drift_in_its_ledger_off_the_event_loop(
    plain_simulator: RunningSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [case] = [c for c in CASES if c.name == "task results relative paths"]
    path = tmp_path / "ledger.sqlite3"
    caplog.set_level(logging.WARNING, logger="seedream.drift")

    async def run() -> None:
        client = AsyncSeedream(
            KEY,
            base_url=plain_simulator.base_url,
            ledger=Ledger(path),  # not owned by the client: closed below, once its writer has drained
            transport=DriftingTransport(httpx.AsyncHTTPTransport(), case),
            polling=PollPolicy().scaled(SCALE),
            allow_internal_result_hosts=True,
        )
        monitor = client.api.drift_monitor
        assert monitor is not None and monitor.sink is not None and monitor.sink != client.ledger.record_drift
        async with client:
            with pytest.raises(SeedreamError):  # a relative result path cannot be downloaded
                await client.generate(PROMPT["completed"], directory=tmp_path)
        client.ledger.close()

    asyncio.run(run())
    with Ledger(path) as ledger:
        rows = [(r.operation, r.pointer, r.kind) for r in ledger.drift()]
    assert ("getTaskDetail", "/results/0", "bad-shape") in rows
    assert len(_drift_warnings(caplog)) == len(rows)


def test_an_echoed_key_never_reaches_the_log_or_the_ledger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-live-0123456789abcdefXYZ"
    caplog.set_level(logging.WARNING, logger="seedream.drift")

    def echo(request: httpx.Request) -> httpx.Response:  # a broken gateway echoing the key where `object` belongs
        body = {"id": "task-unified-1757165031-abc", "status": "pending", "created": 1757165031, "object": key}
        return httpx.Response(200, json=body | {"model": "doubao-seedream-5.0-lite", "type": "image", "progress": 0})

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        client = Seedream(key, base_url="http://127.0.0.1:9", ledger=ledger, transport=httpx.MockTransport(echo))
        with client:
            client.submit("a lighthouse")
        rows = ledger.drift()
    assert [(r.pointer, r.kind) for r in rows] == [("/object", "unknown-enum")]
    assert client.api.drift_monitor is not None
    shown = [r.example for r in rows] + [r.example for r in client.api.drift_monitor.records()]
    assert all(key not in text for text in [*shown, *_drift_warnings(caplog)])


def test_the_cli_error_of_a_drifted_wait_lists_the_drift_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from seedream._cli import _Output, _reported

    drift = ('getTaskDetail /status unknown-enum ("succeeded"; expected enum [...])',)
    with pytest.raises(typer.Exit), _reported(_Output(True)):
        raise WaitTimeoutError("timed out", task_id="task-unified-1-abc", last_status="succeeded", drift=drift)
    detail = json.loads(capsys.readouterr().out)["error"]
    assert (detail["type"], detail["drift"]) == ("WaitTimeoutError", list(drift))
