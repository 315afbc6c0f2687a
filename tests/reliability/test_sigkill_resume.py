"""50 `seedream generate` processes SIGKILLed at random moments (150 with ``--thorough``), each followed by resume.

A simulator runs under uvicorn on 127.0.0.1 in this process; a thin wrapper
around its ``create_task`` records which prompt (one per run) created which
task. Each run is a real ``seedream generate --verbose`` process with its own
ledger file and output directory, killed with SIGKILL at a random moment: a
random delay after start, or a random delay after the ledger shows the
request leaving, the task id arriving, a download starting or the task
completing (so every phase is hit, not only the long interpreter start-up).
Then ``seedream resume --json`` runs against the same ledger: in-process
through the CLI's own entry (typer's runner) for most runs, as a real process
for every tenth run (every run with ``--thorough``).

After each resume: every task the simulator created (and charged) for the
run whose id reached the ledger has all its images on disk, each byte for
byte what the simulator serves (sha256 in the ledger, on disk and of the
served bytes agree), with no ``.part`` left; a task whose POST was in flight
when the process died is reported ``unconfirmed`` (its id never reached the
client: only the vendor's dashboard can tell). Nothing is written outside the
run's directory.

Runs go four at a time: a CLI start costs about half a second of CPU, and the
machine has two cores.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seedream._cli import app
from seedream._ledger import Ledger, TaskState
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .conftest import Figures, SecretWitness
from .helpers import CLI, SENTINEL_KEY, sha256

pytestmark = [pytest.mark.reliability, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]

SCALE = 0.01  # a task of 5..60 simulated seconds takes 0.05..0.6 s
PARALLEL = 4
TRIGGERS = ("start", "request-left", "task-id-known", "download-started", "task-completed")


@dataclass
class Run:
    index: int
    directory: Path
    prompt: str
    trigger: str
    env: dict[str, str]
    killed: bool = False
    seen_at_kill: str = ""
    outputs: list[str] = field(default_factory=list)

    @property
    def ledger(self) -> Path:
        return self.directory / "ledger.sqlite3"

    @property
    def images(self) -> Path:
        return self.directory / "images"


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=SCALE, seed=7_000_005)
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


def _ledger_rows(path: Path) -> list[tuple[str, str | None]]:
    """(state, task id) of each row, read without writing (the child may be mid-transaction)."""
    if not path.exists():
        return []
    try:
        # closing(): sqlite3's own context manager ends the transaction but leaves the connection open
        # (Python 3.13 then warns "unclosed database", an error under filterwarnings=error).
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as db:
            return [(str(s), t) for s, t in db.execute("SELECT state, task_id FROM tasks")]
    except sqlite3.Error:
        return []  # not created yet, or the schema is still being written


def _ready(run: Run) -> bool:
    rows = _ledger_rows(run.ledger)
    if run.trigger == "request-left":
        return bool(rows)
    if run.trigger == "task-id-known":
        return any(task_id for _, task_id in rows)
    if run.trigger == "download-started":
        return run.images.is_dir() and any(p.suffix == ".part" for p in run.images.iterdir())
    return any(state in ("completed", "downloaded") for state, _ in rows)


def _seen(run: Run) -> str:
    rows = _ledger_rows(run.ledger)
    state = rows[0][0] if rows else "no ledger row"
    files = list(run.images.iterdir()) if run.images.is_dir() else []
    partial = sum(p.suffix == ".part" for p in files)
    return f"{state}" + (f", {partial} .part" if partial else "") + (f", {len(files) - partial} saved" if files else "")


def _generate_and_kill(run: Run, rng: random.Random) -> Run:
    """Start `seedream generate`, SIGKILL it at the run's random moment (unless it finished first)."""
    run.images.parent.mkdir(parents=True, exist_ok=True)
    n = rng.choice(["1", "1", "2"])
    with open(run.directory / "generate.out", "w") as out, open(run.directory / "generate.err", "w") as err:
        process = subprocess.Popen(
            [sys.executable, *CLI, "generate", run.prompt, "-n", n, "--out", str(run.images), "--verbose"],
            env=run.env,
            stdout=out,
            stderr=err,
        )
        try:
            fire_at = time.monotonic() + rng.uniform(0.0, 2.5) if run.trigger == "start" else None
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                now = time.monotonic()
                if fire_at is None and _ready(run):
                    fire_at = now + rng.uniform(0.0, 0.05 if run.trigger != "task-id-known" else 0.6)
                if fire_at is not None and now >= fire_at:
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
                    run.killed = process.returncode == -signal.SIGKILL
                    run.seen_at_kill = _seen(run)
                    break
                time.sleep(0.002)
        finally:
            if process.poll() is None:  # only ever the process started above
                process.kill()
                process.wait(10)
    run.outputs += [(run.directory / "generate.out").read_text(), (run.directory / "generate.err").read_text()]
    return run


def _resume(run: Run, as_process: bool) -> tuple[int, str, str]:
    if as_process:
        done = subprocess.run(
            [sys.executable, *CLI, "resume", "--json", "--verbose"],
            env=run.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr
    result = CliRunner().invoke(app, ["resume", "--json"], env=run.env)
    return result.exit_code, result.stdout, result.stderr


def test_fifty_sigkilled_generate_runs_are_recovered_by_resume(
    simulator: RunningSimulator, tmp_path: Path, thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    kills_wanted = 150 if thorough else 50
    created = _record_creations(simulator)
    engine = simulator.app.simulator
    rng = random.Random(7_000_006)
    counts: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    started = time.perf_counter()
    runs = 0

    def new_run() -> Run:
        nonlocal runs
        runs += 1
        directory = tmp_path / f"run-{runs:03d}"
        env = {**os.environ, "EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": simulator.base_url,
               "SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS": "1",  # the simulator's result links name 127.0.0.1
               "SEEDREAM_LEDGER": str(directory / "ledger.sqlite3")}  # fmt: skip
        duration = round(rng.uniform(5, 60), 1)
        prompt = f"[sim:duration={duration}] lighthouse, kill run {runs}"
        return Run(runs, directory, prompt, rng.choice(TRIGGERS), env)

    def check(run: Run) -> None:
        as_process = thorough or run.index % 10 == 0
        code, stdout, stderr = _resume(run, as_process)
        witness.see(*run.outputs, stdout, stderr)
        assert code == 0, (run.prompt, stdout, stderr)
        outcomes = json.loads(stdout)
        counts["resumed as a process" if as_process else "resumed in-process"] += 1
        with Ledger(run.ledger) as ledger:
            rows = ledger.entries()
        tasks = created.get(run.prompt, [])
        assert len(tasks) <= 1, f"{run.prompt} created {tasks}"  # never charged twice
        assert len(rows) <= 1
        if tasks and rows and rows[0].task_id:
            [row] = rows
            assert row.task_id == tasks[0] and row.state == TaskState.DOWNLOADED, (run.seen_at_kill, row, outcomes)
            task = engine.get_task(tasks[0])
            assert task is not None
            expected = {entry.index: sha256(engine.file_bytes(entry)) for entry in task.files}
            assert {f.index: f.sha256 for f in row.files} == expected
            on_disk = {p.name: sha256(p.read_bytes()) for p in run.images.iterdir()}
            assert on_disk == {Path(f.path).name: f.sha256 for f in row.files}  # every image intact, no .part
            counts["paid tasks recovered"] += 1
            counts["images verified"] += len(expected)
        elif tasks:  # created and charged, but the process died before the answer reached the ledger
            [row] = rows
            assert row.state in (TaskState.INTENT, TaskState.UNCONFIRMED)
            assert [o["state"] for o in outcomes] == ["unconfirmed"]
            counts["paid tasks whose id never reached the client (reported unconfirmed)"] += 1
        else:
            assert all(row.task_id is None for row in rows)
            assert [o["state"] for o in outcomes] == ["unconfirmed"] * len(rows)
            assert not run.images.exists() or list(run.images.iterdir()) == []
            counts["killed before any task existed"] += 1

    with ThreadPoolExecutor(PARALLEL) as pool:
        pending: set[Future[Run]] = set()
        while counts["kills"] < kills_wanted:
            while len(pending) < PARALLEL and counts["kills"] + len(pending) < kills_wanted:
                pending.add(pool.submit(_generate_and_kill, new_run(), random.Random(rng.random())))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                run = future.result()
                counts["kills" if run.killed else "finished before the kill"] += 1
                seen[f"{run.trigger} -> {run.seen_at_kill or 'finished'}"] += 1
                check(run)
            assert runs < kills_wanted * 3, "too many runs finished before their kill"

    # Nothing outside the runs' directories; inside, only the ledger, the captured output and the images.
    allowed = {"ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm", "generate.out", "generate.err"}
    strays = [
        str(path.relative_to(tmp_path))
        for path in tmp_path.rglob("*")
        if path.is_file()
        and not (path.parent.parent == tmp_path and path.name in allowed)
        and not (path.parent.name == "images" and path.suffix in (".jpg", ".png") and not path.name.startswith("."))
        and path.name != "env-ledger.sqlite3"
    ]
    assert strays == []
    figures.update(
        runs=runs,
        **{key: value for key, value in sorted(counts.items())},
        state_at_kill_by_trigger=dict(sorted(seen.items())),
        run_wall_s=round(time.perf_counter() - started, 1),
    )
    assert counts["kills"] == kills_wanted
    assert counts["paid tasks recovered"] >= kills_wanted // 2
