"""`seedream batch` and `seedream sheet` from the command line (typer's runner, the simulator on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seedream._cli import app
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import KEY


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=0.01, seed=14_000_004)) as server:
        yield server


def _env(server: RunningSimulator, tmp_path: Path, key: str = KEY) -> dict[str, str]:
    # COLUMNS: typer's error box wraps at the terminal width, and a long tmp path would split the file name.
    return {
        "EVOLINK_API_KEY": key,
        "SEEDREAM_BASE_URL": server.base_url,
        "SEEDREAM_LEDGER": str(tmp_path / "l.db"),
        "COLUMNS": "400",
    }


def _batch(path: Path, *rows: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_dry_run_needs_no_key_prices_the_lines_and_sends_nothing(simulator: RunningSimulator, tmp_path: Path) -> None:
    batch = _batch(tmp_path / "b.jsonl", {"prompt": "a", "n": 3}, {"prompt": "b"})
    result = CliRunner().invoke(app, ["batch", str(batch), "--dry-run", "--json"], env=_env(simulator, tmp_path, ""))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["estimate"]["images"] == 4 and report["estimate"]["credits"] == pytest.approx(4 * 2.2)
    assert simulator.counters()["requests"] == {}


def test_strict_with_a_bad_line_exits_2_naming_line_and_field_and_sends_nothing(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    batch = _batch(tmp_path / "b.jsonl", {"prompt": "a"}, {"prompt": "b", "size": "9x9"})
    result = CliRunner().invoke(app, ["batch", str(batch), "--strict"], env=_env(simulator, tmp_path))
    assert result.exit_code == 2
    assert "line 2: size" in result.stderr
    assert simulator.counters()["requests"] == {}


def test_max_credits_below_the_estimate_exits_2_before_sending(simulator: RunningSimulator, tmp_path: Path) -> None:
    batch = _batch(tmp_path / "b.jsonl", {"prompt": "a", "n": 5})
    result = CliRunner().invoke(app, ["batch", str(batch), "--max-credits", "5"], env=_env(simulator, tmp_path))
    assert result.exit_code == 2 and "max_credits" in result.stderr
    assert simulator.counters()["requests"] == {}


def test_a_run_prints_each_line_the_failures_by_code_and_writes_a_contact_sheet(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    batch = tmp_path / "b.csv"
    batch.write_text(
        'prompt,n\n"a fox [sim:duration=2]",2\n"an owl [sim:fail=content_policy_violation] [sim:duration=2]",1\n'
    )
    out = tmp_path / "shots"
    args = ["batch", str(batch), "--out", str(out), "--poll-scale", "0.01"]
    result = CliRunner().invoke(app, args, env=_env(simulator, tmp_path))
    assert result.exit_code == 3, result.output  # a line's task failed
    lines = result.stdout.splitlines()
    assert lines[0].startswith("line    2  done") and "2 image(s)" in lines[0]
    assert lines[1].startswith("line    3  failed") and "content_policy_violation" in lines[1]
    assert "failures by code: content_policy_violation 1" in result.stdout
    assert (out / "contact-sheet.png").is_file() and (out / "contact-sheet.html").read_text().count("<figure>") == 2
    sheet = CliRunner().invoke(app, ["sheet", str(out), "--json"], env=_env(simulator, tmp_path))
    assert sheet.exit_code == 0 and json.loads(sheet.stdout)["images"] == 2


def test_sheet_of_a_directory_without_images_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sheet", str(tmp_path)], env={"SEEDREAM_LEDGER": str(tmp_path / "none.db")})
    assert result.exit_code == 2 and "DIR" in result.stderr


@pytest.mark.parametrize(("name", "text"), [("empty.jsonl", "\n# nothing yet\n"), ("missing.jsonl", None)])
def test_an_empty_or_missing_batch_file_exits_2_naming_the_file(
    simulator: RunningSimulator, tmp_path: Path, name: str, text: str | None
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    result = CliRunner().invoke(app, ["batch", str(path)], env=_env(simulator, tmp_path))
    assert result.exit_code == 2 and "FILE" in result.stderr and name in result.stderr
    assert simulator.counters()["requests"] == {}
