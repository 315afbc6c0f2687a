"""The `seedream` command in-process (typer's CliRunner) against a simulator thread on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seedream._cli import app
from seedream._ledger import Ledger
from seedream._rules import output_size
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import SENTINEL_KEY


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01)) as server:
        yield server


@pytest.fixture
def env(simulator: RunningSimulator, tmp_path: Path) -> dict[str, str]:
    return {
        "EVOLINK_API_KEY": SENTINEL_KEY,
        "SEEDREAM_BASE_URL": simulator.base_url,
        "SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS": "1",  # the simulator's result links name 127.0.0.1
        "SEEDREAM_LEDGER": str(tmp_path / "cli-ledger.sqlite3"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert SENTINEL_KEY not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_generate_json_lists_files_with_pixel_sizes(env: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(env, "generate", "two lighthouses", "-n", "2", "--size", "4:3", "--quality", "2K",
                       "--out", str(tmp_path / "imgs"), "--json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["task"]["status"] == "completed"
    assert [(f["index"], f["width"], f["height"]) for f in data["files"]] == [
        (i, *output_size("4:3", "2K")) for i in range(2)
    ]
    assert all(
        Path(f["path"]).is_file() and Path(f["path"]).parent == (tmp_path / "imgs").resolve() for f in data["files"]
    )


def test_generate_human_output_prints_paths_and_sizes(env: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(env, "generate", "a lighthouse", "--out", str(tmp_path))
    assert code == 0
    [line] = out.strip().splitlines()
    assert line.startswith(str(tmp_path.resolve())) and "2048x2048" in line and "sha256" in line


def test_no_wait_then_status_wait_and_download_by_id(env: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(env, "generate", "a lighthouse", "--no-wait", "--out", str(tmp_path / "later"), "--json")
    assert code == 0
    task_id = json.loads(out)["task"]["id"]
    code, out, _ = run(env, "status", task_id, "--json")
    assert code == 0 and json.loads(out)["id"] == task_id
    code, out, _ = run(env, "wait", task_id, "--json")
    assert code == 0 and json.loads(out)["status"] == "completed"
    code, out, _ = run(env, "download", task_id, "--json")  # into the directory recorded at submit
    assert code == 0
    [saved] = json.loads(out)
    assert Path(saved["path"]).parent == (tmp_path / "later").resolve()
    code, out, _ = run(env, "ledger", "list", "--json")
    assert code == 0
    [row] = json.loads(out)
    assert (row["task_id"], row["state"], len(row["files"])) == (task_id, "downloaded", 1)


def test_missing_key_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    env = {**env, "EVOLINK_API_KEY": ""}
    code, out, err = run(env, "generate", "a lighthouse")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["error: no API key: set EVOLINK_API_KEY (export EVOLINK_API_KEY=sk-...)"]


def test_rule_violation_names_the_field_and_sends_nothing(env: dict[str, str], simulator: RunningSimulator) -> None:
    code, _, err = run(env, "generate", "a lighthouse", "-n", "16")
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("error: -n:") and "15" in line
    assert simulator.counters()["requests"] == {}


def test_failed_task_exits_3_with_the_code(env: dict[str, str], tmp_path: Path) -> None:
    code, out, err = run(env, "generate", "[sim:fail=service_error] x", "--out", str(tmp_path), "--json")
    assert code == 3
    assert json.loads(out)["error"]["code"] == "service_error"
    assert "service_error" in err and "retry later" in err


def test_wait_timeout_exits_4_and_says_how_to_continue(env: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(env, "generate", "[sim:duration=3000] slow", "--no-wait", "--json")
    task_id = json.loads(out)["task"]["id"]
    code, _, err = run(env, "wait", task_id, "--timeout", "0.2")
    assert code == 4
    assert f"seedream wait {task_id}" in err.strip().splitlines()[-1]


def test_server_error_on_submit_warns_about_a_possible_charge(tmp_path: Path) -> None:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), fault_5xx=1.0, seed=3)
    with run_simulator(config) as server:
        env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": server.base_url,
               "SEEDREAM_LEDGER": str(tmp_path / "l.db")}  # fmt: skip
        code, _, err = run(env, "generate", "a lighthouse")
        posts = sum(server.counters()["requests"]["POST /v1/images/generations"].values())
    assert code == 1 and posts == 1
    assert "may still have been created and charged" in err
    with Ledger(tmp_path / "l.db") as ledger:
        assert ledger.entries()[0].state == "unconfirmed"


def test_simulator_command_is_forwarded(env: dict[str, str]) -> None:
    code, out, _ = run(env, "simulator", "--help")
    assert code == 0 and "--time-scale" in out and "--fault-5xx" in out


def test_resume_with_nothing_to_do(env: dict[str, str]) -> None:
    code, out, _ = run(env, "resume")
    assert code == 0 and "nothing to resume" in out


def test_demo_generates_two_images_on_its_own_simulator(tmp_path: Path) -> None:
    env = {"EVOLINK_API_KEY": "", "SEEDREAM_LEDGER": str(tmp_path / "user-ledger.sqlite3")}
    code, out, err = run(env, "demo", "--out", str(tmp_path / "demo"))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all("2048x2048" in line for line in lines)
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert [n.rsplit(".", 1)[1] for n in names if not n.startswith("contact-sheet")] == ["jpg", "jpg"]
    assert "contact-sheet.html" in names and "contact-sheet.png" in names  # the run's contact sheet
    assert "simulator running at http://127.0.0.1:" in err and "simulator stopped" in err
    assert not (tmp_path / "user-ledger.sqlite3").exists()  # the demo's tasks die with its simulator


def test_idempotency_probe_asks_before_spending_then_status_shows_the_verdict(
    env: dict[str, str], simulator: RunningSimulator
) -> None:
    result = CliRunner().invoke(app, ["idempotency", "probe"], env=env, input="n\n")
    assert result.exit_code == 1 and simulator.counters()["tasks_created"] == 0  # declined: nothing sent
    code, out, _ = run(env, "idempotency", "status", "--json")
    assert code == 0 and json.loads(out) == [
        {"base_url": simulator.base_url, "state": "unproven", "evidence": json.loads(out)[0]["evidence"],
         "checked_at": None}
    ]  # fmt: skip
    code, out, _ = run(env, "idempotency", "probe", "--yes", "--json")
    assert code == 0 and json.loads(out)["state"] == "supported"
    assert simulator.counters()["tasks_created"] == 1  # the probe's one image
    code, out, _ = run(env, "idempotency", "status")
    assert code == 0 and f"{simulator.base_url}  supported" in out and "idempotency-replayed: true" in out


def test_idempotency_probe_against_a_gateway_ignoring_keys_records_not_supported(tmp_path: Path) -> None:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01, honour_idempotency_keys=False)
    with run_simulator(config) as server:
        env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": server.base_url,
               "SEEDREAM_LEDGER": str(tmp_path / "l.sqlite3")}  # fmt: skip
        code, out, _ = run(env, "idempotency", "probe", "-y", "--json")
        assert code == 0 and json.loads(out)["state"] == "not_supported"
        assert server.counters()["tasks_created"] == 2  # both charged: the finding
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        assert [s.state for s in ledger.idempotency_support()] == ["not_supported"]
        assert sorted(str(e.state) for e in ledger.entries()) == ["submitted", "submitted"]  # both tasks on the books
