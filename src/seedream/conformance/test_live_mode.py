"""Live mode, proven against a second simulator standing in for the real API.

``pytest conformance/test_server_layer.py --base-url URL`` runs in a fresh
process against a simulator on 127.0.0.1 whose counters say what a real
account would have been charged: nothing in zero-spend mode, never more
than N generations with ``--allow-spend N``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedream._settings import LEDGER_ENV
from seedream.conformance.test_server_layer import SpendGuard
from seedream.simulator import SimulatorConfig, run_simulator

pytest_plugins = ["pytester"]

SERVER_LAYER = Path(__file__).with_name("test_server_layer.py")
STAND_IN_KEY = "sk-live-stand-in"
CREATE = "POST /v1/images/generations"


@pytest.fixture
def stand_in() -> Iterator[Any]:
    """The 'live' server: its own simulator, with credits so that charges show up."""
    config = SimulatorConfig.for_tests(api_keys=(STAND_IN_KEY,), time_scale=0.001, credits=1000.0)
    with run_simulator(config) as server:
        yield server


OWNED_TASKS = Path(__file__).with_name("test_owned_tasks.py")
STATEFUL = Path(__file__).with_name("test_stateful_layer.py")


def _run_live(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: Any, *extra: str, files: tuple[Path, ...] = ()
) -> Any:
    monkeypatch.setenv("EVOLINK_API_KEY", STAND_IN_KEY)
    # live mode reads the default ledger when no --ledger is given: the test's own, never the user's real one
    monkeypatch.setenv(LEDGER_ENV, str(pytester.path / "no-ledger.sqlite3"))
    # in-process (a fresh interpreter costs seconds of imports); results and clients are per session
    return pytester.runpytest_inprocess(
        *(str(f) for f in files or (SERVER_LAYER,)),
        "--base-url",
        server.base_url,
        "--server-examples",
        "6",
        "-p",
        "no:randomly",
        "-ra",  # skip reasons in the summary, whatever configuration the suite is installed under
        *extra,
    )


def test_zero_spend_mode_sends_only_requests_the_spec_says_must_be_rejected(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stand_in: Any
) -> None:
    result = _run_live(pytester, monkeypatch, stand_in)
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes["passed"] > 10
    assert outcomes.get("skipped") == 1  # the valid-generation run, and only it
    result.stdout.fnmatch_lines(["*zero-spend live mode sends no valid generation request*"])
    result.stdout.fnmatch_lines(["*seedream conformance summary*", "*3 server (live)*"])
    counters = stand_in.counters()
    assert counters["tasks_created"] == 0
    assert counters["credits_charged"] == 0
    result.stdout.fnmatch_lines(["spend guard (live): 0 billable requests sent (cap 0), * refused"])
    posts = counters["requests"][CREATE]
    # it did talk to the server: rejected bodies (400) and rejected keys (401), nothing else
    assert posts.get("400", 0) > 0 and posts.get("401", 0) > 0
    assert set(posts) <= {"400", "401"}
    # the free operations were really called with the key: reading the balance, the list and many tasks bills nothing
    for route in ("GET /v1/credits", "GET /v1/tasks", "POST /v1/tasks/batch"):
        assert counters["requests"][route].get("200", 0) > 0, route


def test_allow_spend_never_buys_more_than_the_cap(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stand_in: Any
) -> None:
    cap = 2
    # only the runs that may spend: valid generations, and the task query that makes a task to read
    runs = "positive and (createImageGeneration or getTaskDetail)"
    result = _run_live(pytester, monkeypatch, stand_in, "--allow-spend", str(cap), "-k", runs)
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes["passed"] == 2 and "skipped" not in outcomes
    note = re.search(
        r"spend guard \(live\): (\d+) billable requests sent \(cap 2\), (\d+) refused", result.stdout.str()
    )
    assert note, result.stdout.str()[-2000:]
    sent, refused = int(note.group(1)), int(note.group(2))
    counters = stand_in.counters()
    # the server's own count agrees with the guard's, the cap held, and it was tested: more were refused
    assert counters["tasks_created"] == sent == cap
    assert refused > 0
    assert counters["credits_charged"] == pytest.approx(cap * stand_in.app.config.credits_per_image)


def test_spend_mode_follows_its_task_to_the_end_and_the_stateful_phase_runs_within_the_cap(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stand_in: Any
) -> None:
    cap = 3
    result = _run_live(pytester, monkeypatch, stand_in, "--allow-spend", str(cap), files=(OWNED_TASKS, STATEFUL))
    outcomes = result.parseoutcomes()
    out = result.stdout.str()
    assert result.ret == 0, out[-3000:]
    # the followed task: completed, its image downloaded, decoded and of the predicted size
    result.stdout.fnmatch_lines(["followed task (live): completed after * polls"])
    result.stdout.fnmatch_lines(["*3 owned tasks*download*result image per content type, decoding and size*1*0*"])
    assert outcomes["passed"] == 5 and "skipped" not in outcomes  # the stateful phase ran live, too
    steps = re.search(r"stateful \(live\): steps \{'POST /v1/images/generations': (\d+)(?:, 'GET [^']*': (\d+))?", out)
    assert steps and int(steps.group(1)) > 0, out[-3000:]
    gateway = re.search(r"through the guard: (\d+) requests sent, (\d+) refused", out)
    note = re.search(r"spend guard \(live\): (\d+) billable requests sent \(cap 3\), (\d+) refused", out)
    assert gateway and note, out[-3000:]
    counters = stand_in.counters()
    # every task the stand-in made was one the guard admitted, and no more than the cap: steps and probes alike
    assert counters["tasks_created"] == int(note.group(1)) <= cap
    assert counters["tasks_created"] == cap  # the followed task, then the phase used what was left


def _task_on(stand_in: Any) -> str:
    """The id of a task made on the stand-in directly (as a user's earlier generation would be)."""
    import httpx

    return str(
        httpx.post(
            stand_in.url("/v1/images/generations"),
            json={"model": "doubao-seedream-5.0-lite", "prompt": "a lake"},
            headers={"Authorization": f"Bearer {STAND_IN_KEY}"},
        ).json()["id"]
    )


def test_zero_spend_mode_reads_the_tasks_it_is_given_and_creates_none(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stand_in: Any, tmp_path: Path
) -> None:
    made = _task_on(stand_in)
    before = stand_in.counters()["tasks_created"]
    result = _run_live(
        pytester,
        monkeypatch,
        stand_in,
        "--task-id",
        made,
        "--ledger",
        str(tmp_path / "none.sqlite3"),
        files=(OWNED_TASKS, STATEFUL),
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # a --ledger that does not exist is a usage error
    result = _run_live(pytester, monkeypatch, stand_in, "--task-id", made, files=(OWNED_TASKS, STATEFUL))
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["owned tasks (live): 1 read (1 given, *), 0 deviations"])
    assert stand_in.counters()["tasks_created"] == before
    assert stand_in.counters()["requests"]["GET /v1/tasks/{task_id}"].get("200", 0) >= 1


def test_the_client_monitors_drift_rows_for_this_server_are_reported_and_fail_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stand_in: Any, tmp_path: Path
) -> None:
    from seedream._drift import DriftRecord
    from seedream._ledger import Ledger

    made = {"id": _task_on(stand_in)}
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        for base_url, task_id in ((stand_in.base_url, made["id"]), ("https://other.example", "task-unified-1-other")):
            row = ledger.record_intent(base_url=base_url, params={"prompt": "a lake"}, directory=None)
            ledger.record_submitted(row, task_id=task_id, status="pending", created=1, estimated_time=None)

        def seen(operation: str, pointer: str, kind: str, example: str, task_id: str | None) -> DriftRecord:
            return DriftRecord(operation, pointer, kind, example, "a rule", 200, task_id, 1.0e9, 1.0e9 + 60, 2)

        ledger.record_drift(
            [
                seen("createImageGeneration", "/status", "unknown-enum", '"queued"', made["id"]),
                seen("getTaskDetail", "/id", "bad-shape", '"img_1"', "task-unified-1-other"),
                seen("createImageGeneration", "/error", "missing", "<absent>", None),
            ]
        )
    report = tmp_path / "report.json"
    result = _run_live(
        pytester, monkeypatch, stand_in, "--ledger", str(path), "--conformance-json", str(report), files=(OWNED_TASKS,)
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(
        ["client drift monitor (ledger): 1 rows for this server, 1 for other servers, 1 about*"]
    )
    rows = [d for d in json.loads(report.read_text(encoding="utf-8"))["deviations"] if "count" in d]
    assert [(d["operation"], d["pointer"], d["kind"], d["count"]) for d in rows] == [
        ("createImageGeneration", "/status", "unknown-enum", 2)
    ]
    assert rows[0]["first_seen"] == "2001-09-09T01:46:40+00:00" and rows[0]["last_seen"].endswith(":47:40+00:00")


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({}, [], "*--base-url (live mode) needs the API key in EVOLINK_API_KEY*"),
        ({"EVOLINK_API_KEY": STAND_IN_KEY}, ["--allow-spend", "-1"], "*--allow-spend must be 0 or more*"),
    ],
)
def test_live_mode_refuses_to_start_without_a_key_or_with_a_negative_cap(
    env: dict[str, str],
    args: list[str],
    message: str,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    stand_in: Any,
) -> None:
    monkeypatch.delenv("EVOLINK_API_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest_inprocess(str(SERVER_LAYER), "--base-url", stand_in.base_url, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert stand_in.counters()["requests"] == {}


# --- the guard itself ---------------------------------------------------------------------------------

KEY = "sk-real"
VALID = {"model": "doubao-seedream-5.0-lite", "prompt": "a lake"}
POST = ("POST", "/v1/images/generations")


def _auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_guard_with_no_budget_refuses_a_valid_generation_but_sends_what_must_be_rejected() -> None:
    guard = SpendGuard(api_key=KEY, budget=0)
    assert not guard.admit(*POST, _auth(), VALID)
    assert guard.admit(*POST, _auth(), {**VALID, "n": 16})  # the spec says 400
    assert guard.admit(*POST, {}, VALID)  # no key: 401
    assert guard.admit(*POST, _auth("sk-wrong"), VALID)  # wrong key: 401
    assert guard.admit("GET", "/v1/tasks/task-unified-1", _auth(), None)  # reading is free
    assert (guard.billable_sent, guard.refused) == (0, 1)


def test_guard_admits_at_most_the_budget() -> None:
    guard = SpendGuard(api_key=KEY, budget=2)
    assert [guard.admit(*POST, _auth(), VALID) for _ in range(5)] == [True, True, False, False, False]
    assert guard.billable_sent == 2


def test_guard_trips_when_a_must_reject_post_is_accepted_and_then_sends_no_post_with_the_key() -> None:
    guard = SpendGuard(api_key=KEY, budget=0)
    invalid = {**VALID, "n": 0}
    assert guard.admit(*POST, _auth(), invalid)
    guard.observe("POST", _auth(), invalid, billable=False, status=200)
    assert guard.tripped
    assert not guard.admit(*POST, _auth(), {**VALID, "n": 99})
    assert guard.admit(*POST, _auth("sk-wrong"), VALID)  # still harmless


def test_guard_holds_back_spend_for_a_later_phase_until_released() -> None:
    guard = SpendGuard(api_key=KEY, budget=3, held=1)
    assert [guard.admit(*POST, _auth(), VALID) for _ in range(3)] == [True, True, False]
    assert guard.release() == 1
    assert [guard.admit(*POST, _auth(), VALID) for _ in range(2)] == [True, False]
    assert guard.billable_sent == 3 and guard.release() == 0


def test_guard_lets_the_free_batch_query_through_and_is_not_tripped_by_its_200() -> None:
    guard = SpendGuard(api_key=KEY, budget=0)
    batch = ("POST", "/v1/tasks/batch")
    assert guard.admit(*batch, _auth(), {"task_ids": ["task-unified-1-a"]})
    guard.observe("POST", _auth(), {"task_ids": []}, billable=False, status=200, path="/v1/tasks/batch")
    assert guard.tripped is None
    assert guard.admit("GET", "/v1/credits", _auth(), None) and guard.admit("GET", "/v1/tasks", _auth(), None)
    assert not guard.admit(*POST, _auth(), VALID)  # a valid generation still is not
