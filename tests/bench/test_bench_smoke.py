"""The benchmark harness runs end to end on one cheap figure (``python -m bench.run --quick``).

Proves the bench code works, not how fast anything is: no timing is ever
asserted (speed targets live in the bench table, never in tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = {
    "bare httpx",
    "plain generated client",
    "openai-python",
    "seedream SeedreamAPI",
    "seedream SeedreamAPI, drift monitor off",  # figure 1: what the client's drift monitor costs
}


def _bench(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bench.run", "--quick", "--out", str(out), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_quick_run_of_figure_1_prints_the_table_and_writes_json_and_markdown(tmp_path: Path) -> None:
    result = _bench(tmp_path, "--figures", "1")

    assert result.returncode == 0, result.stderr[-2000:]
    doc = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    rows = {row["name"]: row for row in doc["rows"]}
    assert set(rows) == CLIENTS
    assert {row["figure"] for row in rows.values()} == {"1"}
    baseline = rows["bare httpx"]
    assert baseline["measured"] and baseline["value"]["median"] > 0 and baseline["value"]["rounds"] >= 2
    for name, row in rows.items():
        if name == "bare httpx":
            continue
        # Either a ratio against the baseline measured in the same run, or an honest reason.
        if row["measured"]:
            assert row["baseline"] == "bare httpx" and row["ratio"]["median"] > 0, row
        else:
            assert row["note"].startswith("not measured: "), row
    assert rows["seedream SeedreamAPI"]["target"] == 1.10
    assert doc["quick"] is True and doc["machine"]["cores"] >= 1 and doc["date"]
    markdown = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "| # | measurement |" in markdown and "| 1 | bare httpx |" in markdown
    assert "bare httpx" in result.stdout and "latest.json" in result.stdout


def test_unknown_figure_number_is_refused_naming_the_option_and_nothing_is_written(tmp_path: Path) -> None:
    result = _bench(tmp_path, "--figures", "1,9")

    assert result.returncode == 2
    assert "--figures" in result.stderr and "9" in result.stderr
    assert not (tmp_path / "latest.json").exists()


def test_quick_run_of_figure_4_reports_polling_requests_per_task_and_the_many_tasks_row(tmp_path: Path) -> None:
    result = _bench(tmp_path, "--figures", "4")

    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))["rows"]}
    polling = rows["ours: polling requests per task"]
    assert polling["measured"] and polling["target"] == 0.2 and polling["ratio"]["median"] > 0
    assert "batch" in polling["note"] and "counted by the simulator" in polling["note"]
    many = {name.split(": ", 1)[1]: row for name, row in rows.items() if name.startswith("ours, 300 tasks: ")}
    assert set(many) == {"wall time", "peak RSS growth", "polling requests per task"}
    assert many["wall time"]["baseline"] == "submission time + longest task" and many["wall time"]["target"] == 1.3
    assert many["peak RSS growth"]["target"] == 1.0 and many["peak RSS growth"]["unit"] == "MiB"
    # Ratios are reported, never asserted: the targets live in the table.
    assert all(row["ratio"]["median"] > 0 for row in many.values())
