"""The verdict (exit code) of a conformance run, and the Markdown and JSON reports, from recorded results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests

from seedream.conformance import _reports
from seedream.conformance._data import read_repo_file
from seedream.conformance._reports import Failure, RunInfo, ServerUnreachable, is_transport_error, verdict


@dataclass
class Tally:  # the shape of the conftest's rows
    passed: int
    failed: int
    cases: int


def _failure(transport: bool, message: str = "boom") -> Failure:
    return Failure("test_x.py::test_y", "3 server (live)", "getTaskDetail", "y", message, transport)


@pytest.mark.parametrize(
    ("status", "failures", "code"),
    [
        (0, [], 0),
        (1, [_failure(False)], 1),
        (1, [_failure(True), _failure(False)], 1),  # an outage does not hide a drift seen before it
        (1, [_failure(True), _failure(True)], 3),
        (1, [], 1),  # pytest failed without a recorded failure: never a pass, never an outage
        (2, [], 2),  # interrupted, collection errors
        (3, [], 2),  # internal error
        (4, [], 2),  # usage error
        (5, [], 2),  # nothing selected
    ],
)
def test_verdict_maps_pytest_status_and_failures_to_the_documented_codes(
    status: int, failures: list[Failure], code: int
) -> None:
    assert verdict(status, failures) == code


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("slow"),
        ServerUnreachable("down"),
        ConnectionResetError(),
        ExceptionGroup("two", [httpx.ConnectError("a"), requests.exceptions.ConnectionError("b")]),
    ],
    ids=type,
)
def test_transport_errors_are_recognised(exc: BaseException) -> None:
    assert is_transport_error(exc)


@pytest.mark.parametrize(
    "exc",
    [
        AssertionError("expected 400, got 422"),
        FileNotFoundError("openapi/sources/x.md"),  # an OSError, but not the network
        ExceptionGroup("mixed", [httpx.ConnectError("a"), AssertionError("b")]),
        ValueError("bad JSON"),
    ],
    ids=type,
)
def test_other_errors_are_not_transport_errors(exc: BaseException) -> None:
    assert not is_transport_error(exc)


def _rows() -> dict[tuple[str, str, str], Tally]:
    return {
        ("3 server (live)", "createImageGeneration", "negative_data_rejection"): Tally(passed=9, failed=1, cases=10),
        ("1 spec", "(both)", "bundled_spec_is_valid_openapi_3_1"): Tally(passed=1, failed=0, cases=1),
    }


def _write(tmp_path: Path, **overrides: object) -> tuple[str, dict[str, object]]:
    arguments: dict[str, object] = {
        "summary_md": str(tmp_path / "deep" / "summary.md"),
        "json_path": str(tmp_path / "report.json"),
        "info": RunInfo("live", "https://api.example.test", 0),
        "exit_code": 1,
        "pytest_status": 1,
        "rows": _rows(),
        "notes": ["spend guard (live): 0 billable requests sent (cap 0), 3 refused"],
        "failures": [_failure(False, "expected 400 | got 422\nsecond line"), _failure(True, "refused")],
    }
    arguments.update(overrides)
    _reports.write_reports(**arguments)  # type: ignore[arg-type]
    markdown = (tmp_path / "deep" / "summary.md").read_text(encoding="utf-8")
    return markdown, json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_markdown_summary_has_the_table_the_spend_guard_line_and_one_line_per_failure(tmp_path: Path) -> None:
    markdown, _ = _write(tmp_path)
    lines = markdown.splitlines()
    assert lines[0] == "## seedream conformance: ❌ drift or nonconformance (exit 1)"
    assert "live: `https://api.example.test` (zero-spend)" in lines
    table = [line for line in lines if line.startswith("| ")]
    assert table[0] == "| layer | operation | check | passed | failed | cases |"
    assert table[1:] == [
        "| 1 spec | (both) | bundled_spec_is_valid_openapi_3_1 | 1 | 0 | 1 |",
        "| 3 server (live) | createImageGeneration | negative_data_rejection | 9 | 1 | 10 |",
    ]
    assert "total: 10 passed, 1 failed, 11 cases" in lines
    assert "- spend guard (live): 0 billable requests sent (cap 0), 3 refused" in lines
    failures = lines[lines.index("### Failures (2)") + 2 :]
    # one line each; a pipe or a newline in a message cannot break the Markdown
    assert failures == [
        "- `test_x.py::test_y` (3 server (live) / getTaskDetail / y): expected 400 \\| got 422 second line",
        "- `test_x.py::test_y` (3 server (live) / getTaskDetail / y) [transport]: refused",
    ]


def test_markdown_summary_says_when_the_server_layer_did_not_run(tmp_path: Path) -> None:
    markdown, _ = _write(tmp_path, notes=[], failures=[], exit_code=2, problem="no key")
    assert "- spend guard: the server layer did not run (0 billable requests sent)" in markdown.splitlines()
    assert "**no key**" in markdown and "### Failures (0)\n\nnone\n" in markdown


def test_json_report_carries_verdict_rows_notes_and_failures(tmp_path: Path) -> None:
    _, report = _write(tmp_path, info=RunInfo("live", "https://api.example.test", 2))
    assert report["verdict"] == "drift or nonconformance" and report["exit_code"] == 1
    assert (report["mode"], report["base_url"], report["allow_spend"]) == ("live", "https://api.example.test", 2)
    assert report["totals"] == {"passed": 10, "failed": 1, "cases": 11}
    assert report["rows"][1] == {
        "layer": "3 server (live)",
        "operation": "createImageGeneration",
        "check": "negative_data_rejection",
        "passed": 9,
        "failed": 1,
        "cases": 10,
    }
    failures = report["failures"]
    assert isinstance(failures, list) and [f["transport"] for f in failures] == [False, True]


def test_each_deviation_is_a_json_entry_and_a_markdown_line(tmp_path: Path) -> None:
    deviation = {
        "source": "task task-unified-1",
        "operation": "getTaskDetail",
        "pointer": "/status",
        "kind": "unknown-enum",
        "example": '"succeeded"',
        "rule": "enum ['pending', 'completed'] | more",
    }
    whole = {**deviation, "pointer": "", "kind": "content-type"}
    markdown, report = _write(tmp_path, deviations=[deviation, whole])
    assert report["deviations"] == [deviation, whole]
    lines = markdown.splitlines()
    table = lines[lines.index("### Deviations (2)") + 2 :][:4]
    assert table[:2] == ["| source | operation | pointer | kind | found | expected |", "|---|---|---|---|---|---|"]
    assert table[2] == (
        '| task task-unified-1 | getTaskDetail | /status | unknown-enum | "succeeded" | '
        "enum ['pending', 'completed'] \\| more |"
    )
    assert table[3].startswith("| task task-unified-1 | getTaskDetail | (answer) | content-type |")


def test_drift_the_client_recorded_is_a_json_entry_and_a_row_of_its_own_table(tmp_path: Path) -> None:
    seen = {
        "source": "client drift monitor (ledger)",
        "operation": "createImageGeneration",
        "pointer": "/status",
        "kind": "unknown-enum",
        "example": '"queued"',
        "rule": "enum ['pending']",
        "first_seen": "2026-12-01T14:00:00+00:00",
        "last_seen": "2026-12-01T14:05:00+00:00",
        "count": 3,
    }
    markdown, report = _write(tmp_path, deviations=[seen])
    assert report["deviations"] == [seen]
    lines = markdown.splitlines()
    assert "### Deviations" not in markdown  # one table per row, not both
    table = lines[lines.index("### Drift the client recorded in the ledger (1)") + 2 :][:3]
    assert table[0] == "| operation | pointer | kind | found | first seen | last seen | count |"
    assert table[2] == (
        '| createImageGeneration | /status | unknown-enum | "queued" | 2026-12-01T14:00:00+00:00 | '
        "2026-12-01T14:05:00+00:00 | 3 |"
    )


def test_a_run_without_deviations_has_an_empty_list_and_no_section(tmp_path: Path) -> None:
    markdown, report = _write(tmp_path)
    assert report["deviations"] == [] and "### Deviations" not in markdown


def test_one_line_keeps_the_first_non_empty_line_within_the_limit() -> None:
    assert _reports.one_line("\n\n  first  \nsecond") == "first"
    assert _reports.one_line("x" * 500, limit=10) == "x" * 9 + "…"


def test_repo_files_are_read_by_repository_path_and_a_missing_one_is_named() -> None:
    assert read_repo_file("openapi/sources/spec-facts.md").startswith(b"# Facts about the API")
    with pytest.raises(FileNotFoundError, match=r"openapi/sources/nothing\.md"):
        read_repo_file("openapi/sources/nothing.md")
