"""The ready-made CI files: each parses, and its command lines run offline.

The install line is checked, not run (this environment has the package); the
live API's URL is replaced with a simulator on 127.0.0.1 and the secret with
its key, so the very commands a user's nightly job runs are run here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import KEY, closed_port, simulator

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# The GitHub run takes the whole suite; the others narrow it (pytest reads this variable) to save minutes.
SERVER_LAYER_ONLY = {"PYTEST_ADDOPTS": "-k test_server_layer"}
LIVE = "https://api.evolink.ai"
INSTALL = 'python -m pip install "seedream[conformance]"'


def _load(name: str) -> dict[Any, Any]:
    document = yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _shell(script: str, cwd: Path, base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a CI script with bash -e (as both CI systems do), the install skipped, the live URL replaced."""
    lines = []
    for line in script.splitlines():
        if line.strip() == INSTALL:
            continue
        assert "pip install" not in line, line
        lines.append(line.replace(LIVE, base_url))
    environment = {k: v for k, v in os.environ.items() if k != "EVOLINK_API_KEY"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(env)
    return subprocess.run(
        ["bash", "-e", "-c", "\n".join(lines)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _check_reports(workdir: Path, tests: int) -> None:
    suite = ET.parse(workdir / "reports" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) >= tests and suite.get("failures") == "0"
    assert (workdir / "reports" / "conformance.json").is_file()


def _github_steps() -> list[dict[str, Any]]:
    workflow = _load("docs/ci/github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    steps: list[dict[str, Any]] = workflow["jobs"]["conformance"]["steps"]
    return steps


def _run_github(
    steps: list[dict[str, Any]], workdir: Path, base_url: str, **extra: str
) -> list[subprocess.CompletedProcess[str]]:
    summary = workdir / "step-summary.md"
    results = []
    for step in steps:
        if "run" not in step:
            continue
        env = {**extra, **(step.get("env") or {})}
        if "EVOLINK_API_KEY" in env:
            assert env["EVOLINK_API_KEY"] == "${{ secrets.EVOLINK_API_KEY }}"
            env["EVOLINK_API_KEY"] = KEY
        results.append(_shell(step["run"], workdir, base_url, GITHUB_STEP_SUMMARY=str(summary), **env))
    return results


def test_github_actions_nightly_runs_zero_spend_and_publishes_its_reports(tmp_path: Path) -> None:
    steps = _github_steps()
    assert any(step.get("run") == INSTALL for step in steps)
    (upload,) = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
    (publish,) = [step for step in steps if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert publish["if"] == "always()"
    with simulator() as server:
        results = _run_github(steps, tmp_path, server.base_url)
        counters = server.counters()
    for result in results:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    _check_reports(tmp_path, tests=300)
    summary = (tmp_path / "step-summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## seedream conformance: ✅ conforms (exit 0)")
    assert "(zero-spend)" in summary and "- spend guard (live): 0 billable requests sent (cap 0)" in summary
    assert counters["tasks_created"] == 0 and counters["credits_charged"] == 0


def test_github_actions_reports_an_outage_as_a_warning_not_a_drift(tmp_path: Path) -> None:
    steps = _github_steps()
    (run,) = [step for step in steps if "seedream conformance" in step.get("run", "")]
    (result,) = _run_github([run], tmp_path, f"http://127.0.0.1:{closed_port()}", **SERVER_LAYER_ONLY)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "::warning::the API could not be reached" in result.stdout
    assert "server unreachable (exit 3)" in result.stderr


def test_gitlab_ci_nightly_runs_zero_spend_and_keeps_its_reports(tmp_path: Path) -> None:
    job = _load("docs/ci/gitlab-ci.yml")["seedream-conformance"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert job["allow_failure"] == {"exit_codes": [3]}
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always" and artifacts["paths"] == ["reports/"]
    assert INSTALL in job["script"]
    with simulator() as server:
        # GitLab runs the script lines in one shell (stopping at the first failure), then after_script
        script = "\n".join(job["script"])
        result = _shell(script, tmp_path, server.base_url, EVOLINK_API_KEY=KEY, **SERVER_LAYER_ONLY)
        after = _shell("\n".join(job["after_script"]), tmp_path, server.base_url)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    _check_reports(tmp_path, tests=10)
    assert (tmp_path / artifacts["reports"]["junit"]).is_file()
    assert after.returncode == 0 and after.stdout.startswith("## seedream conformance: ✅ conforms (exit 0)")


def test_the_projects_own_workflow_runs_ci_run() -> None:
    workflow = _load(".github/workflows/ci.yml")
    steps = workflow["jobs"]["tests"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    (python,) = [step for step in steps if str(step.get("uses", "")).startswith("actions/setup-python@")]
    assert "3.11" in str(python["with"]["python-version"]).split()
    assert [step["run"] for step in steps if "run" in step] == ["bash .ci/run"]
    assert (REPO / ".ci" / "run").is_file()
