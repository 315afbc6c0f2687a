"""The check_body micro benchmark runs and reports one row per answer kind (no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import fig_drift_check


def test_drift_check_benchmark_reports_every_answer_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert fig_drift_check.main(["--quick"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split("  ")[0] for row in rows] == ["create 200", "task 200 completed", "create 400"]
    assert all(row.count("×") == 2 for row in rows)
