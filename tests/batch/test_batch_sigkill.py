"""A 200-line `seedream batch` against a faulty simulator, SIGKILLed twice part-way, then rerun to the end.

The simulator runs under uvicorn on 127.0.0.1 in this process (429s with
Retry-After and dropped connections on 8 % and 2 % of API requests, time x100);
a thin wrapper around its ``create_task`` records which prompt created which
task (each line's prompt is unique). `seedream batch` runs as a real process,
killed with SIGKILL once the ledger shows 40, then 110 lines downloaded, then
run again until it ends.

Then: every line is accounted for (done, or unconfirmed: a POST whose answer
was lost, never resubmitted); no prompt created more than one task (0 lines
charged twice), and the simulator's task counter equals the lines that
created one; every image of every done line is on disk, and its sha256 in the
ledger equals the file's and the served bytes'. A dry run afterwards sends
nothing (the simulator's request counters do not move).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seedream._cli import app
from seedream._ledger import Ledger, TaskState
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import KEY, sha256

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]

LINES = 200
KILL_AT = (40, 110)  # lines downloaded when the first and the second process is killed


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    config = SimulatorConfig.for_tests(
        api_keys=(KEY,), time_scale=0.01, seed=14_000_001, fault_429=0.08, fault_drop=0.02
    )
    with run_simulator(config) as server:
        yield server


def _record_creations(server: RunningSimulator) -> dict[str, list[str]]:
    created: dict[str, list[str]] = {}
    lock = threading.Lock()
    engine = server.app.simulator
    original = engine.create_task

    def create_task(request: Any, **kwargs: Any) -> Any:
        task = original(request, **kwargs)
        with lock:
            created.setdefault(request.prompt, []).append(task.id)
        return task

    engine.create_task = create_task  # type: ignore[method-assign]
    return created


def _downloaded(ledger: Path) -> tuple[int, int]:
    """(rows downloaded, rows submitted or completed), read without writing."""
    if not ledger.exists():
        return 0, 0
    try:
        with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1)) as db:  # 3.13 warns otherwise
            states = [str(s) for (s,) in db.execute("SELECT state FROM tasks")]
    except sqlite3.Error:
        return 0, 0
    return states.count("downloaded"), sum(s in ("submitted", "completed") for s in states)


def _batch(env: dict[str, str], work: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seedream", "batch", str(work / "lines.jsonl"), "--out", str(work / "images"),
            "--poll-scale", "0.01", "--concurrency", "16", *extra]  # fmt: skip


def _run_and_kill(env: dict[str, str], work: Path, downloaded: int) -> tuple[bool, int]:
    """Start the batch, SIGKILL it once ``downloaded`` lines are done and a task is in flight; (killed, in flight)."""
    ledger = work / "ledger.sqlite3"
    with open(work / "run.err", "a") as err:
        process = subprocess.Popen(_batch(env, work, "--no-sheet"), env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                done, in_flight = _downloaded(ledger)
                if done >= downloaded and in_flight:
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
                    return process.returncode == -signal.SIGKILL, in_flight
                time.sleep(0.01)
        finally:
            if process.poll() is None:  # only ever the process started above
                process.kill()
                process.wait(10)
    return False, 0


def test_a_batch_killed_twice_and_rerun_accounts_for_every_line_and_pays_each_once(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    created = _record_creations(simulator)
    engine = simulator.app.simulator
    prompts = [f"batch line {i} of a harbour at night [sim:duration={3 + i % 13}]" for i in range(LINES)]
    with open(tmp_path / "lines.jsonl", "w") as out:
        for i, prompt in enumerate(prompts):
            out.write(json.dumps({"prompt": prompt, "size": "2560x1440", "n": 1 + i % 2}) + "\n")
    env = {**os.environ, "EVOLINK_API_KEY": KEY, "SEEDREAM_BASE_URL": simulator.base_url,
           "SEEDREAM_LEDGER": str(tmp_path / "ledger.sqlite3")}  # fmt: skip

    kills = [_run_and_kill(env, tmp_path, threshold) for threshold in KILL_AT]
    assert [killed for killed, _ in kills] == [True, True], (tmp_path / "run.err").read_text()[-2000:]
    assert all(in_flight for _, in_flight in kills)  # each rerun had tasks in flight to resume, not only new lines
    done = subprocess.run(_batch(env, tmp_path, "--json"), env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    lines = report["lines"]

    # Every line accounted for, each once.
    assert sorted(line["line"] for line in lines) == list(range(1, LINES + 1))
    # The last run resumed the tasks the second kill left in flight (waited for them, sent nothing new for them).
    assert any(line["previously"] in ("submitted", "completed") and line["state"] == "done" for line in lines)
    states = {line["state"] for line in lines}
    assert states <= {"done", "unconfirmed"}, report["counts"]
    assert done.returncode == (0 if states == {"done"} else 1), done.stderr[-2000:]
    # 0 lines charged twice: one task at most per prompt, and the simulator created no task outside them.
    assert all(len(tasks) == 1 for tasks in created.values()), {p: t for p, t in created.items() if len(t) > 1}
    assert set(created) <= set(prompts)
    assert simulator.counters()["tasks_created"] == len(created)
    assert simulator.counters()["faults"]["429"] > 0 and simulator.counters()["faults"]["drop_after"] > 0

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        rows = {entry.params["prompt"]: entry for entry in ledger.entries()}
    images = 0
    for line in lines:
        prompt = prompts[line["line"] - 1]
        if line["state"] == "unconfirmed":  # its POST's answer was lost: never sent again
            assert rows[prompt].state in (TaskState.INTENT, TaskState.UNCONFIRMED)
            assert len(created.get(prompt, [])) <= 1
            continue
        row = rows[prompt]
        assert row.state == TaskState.DOWNLOADED and [row.task_id] == created[prompt] == [line["task_id"]]
        task = engine.get_task(row.task_id)
        assert task is not None
        served = {entry.index: sha256(engine.file_bytes(entry)) for entry in task.files}
        assert {f.index: f.sha256 for f in row.files} == served
        for saved in row.files:
            assert sha256(Path(saved.path).read_bytes()) == saved.sha256
        assert [f["sha256"] for f in line["files"]] == [f.sha256 for f in row.files]
        images += len(row.files)
    assert images == report["images"] > 0
    assert report["sheet"]["images"] == images and Path(report["sheet"]["png"]).is_file()
    assert not list((tmp_path / "images").glob("*.part"))

    # A dry run now sends nothing at all.
    before = simulator.counters()["requests"]
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "lines.jsonl"), "--dry-run", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["estimate"]["lines"] == 0  # nothing left that may be sent
    assert simulator.counters()["requests"] == before
