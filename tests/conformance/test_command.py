"""`seedream conformance` / `python -m seedream.conformance` in this environment: options, exit codes, reports.

The full runs (offline 0, drift 1, closed port 3, no key 2) are in
``test_installed_wheel.py``, against the installed wheel; these are the
cheaper cases, each on a small selection of the suite.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from seedream._cli import app
from seedream.conformance import _cli

from .helpers import KEY, Outage, simulator

REPO = Path(__file__).resolve().parents[2]


def _command(tmp_path: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EVOLINK_API_KEY"}
    env["SEEDREAM_LEDGER"] = str(tmp_path / "no-ledger.sqlite3")  # never the user's real ledger
    if key is not None:
        env["EVOLINK_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "seedream.conformance", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_an_offline_selection_conforms_with_all_three_reports(tmp_path: Path) -> None:
    result = _command(
        tmp_path, "-k", "test_spec_layer", "--junitxml", "j.xml", "--summary-md", "s.md", "--json", "r.json"
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "seedream conformance: conforms (exit 0)" in result.stderr
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) >= 70 and suite.get("failures") == "0"
    assert "| 1 spec | (both) | bundled_spec_is_valid_openapi_3_1 | 1 | 0 | 1 |" in (tmp_path / "s.md").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 0


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--no-such-option"], "pytest stopped before the suite ran (exit 4; see the log)"),  # pytest refuses it
        (["-k", "no_test_has_this_name"], None),  # nothing selected is not a pass
    ],
)
def test_options_pytest_refuses_are_usage_errors_with_reports(
    tmp_path: Path, args: list[str], problem: str | None
) -> None:
    result = _command(tmp_path, *args, "--summary-md", "s.md", "--json", "r.json")
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["exit_code"], report["problem"]) == (2, problem)
    assert "usage or configuration error (exit 2)" in (tmp_path / "s.md").read_text()


@pytest.mark.parametrize("args", [["--allow-spend", "-1"], ["--allow-spend", "two"], ["--server-examples", "0"]])
def test_bad_values_are_refused_by_the_command(tmp_path: Path, args: list[str]) -> None:
    result = _command(tmp_path, *args)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr
    assert f"Invalid value for '{args[0]}'" in result.stderr


def test_a_key_the_server_refuses_is_a_configuration_error_not_a_drift(tmp_path: Path) -> None:
    with simulator() as server:
        result = _command(
            tmp_path, "--base-url", server.base_url, "-k", "spec_is_what", "--json", "r.json", key="sk-wrong-key"
        )
        requests = server.counters()["requests"]
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr
    assert "refused the key in EVOLINK_API_KEY (401)" in result.stdout
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "usage or configuration error"
    assert requests == {"GET /v1/tasks/{task_id}": {"401": 1}}  # the probe, and nothing after it


def test_a_gateway_answering_503_is_an_outage_not_a_drift(tmp_path: Path) -> None:
    with simulator(app_class=Outage) as server:
        result = _command(tmp_path, "--base-url", server.base_url, "-k", "spec_is_what", "--json", "r.json", key=KEY)
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr
    (failure,) = json.loads((tmp_path / "r.json").read_text())["failures"]
    assert failure["transport"] and "a task query got 503 (the service is down)" in failure["message"]


def test_a_live_selection_against_a_conforming_server_passes(tmp_path: Path) -> None:
    with simulator() as server:
        result = _command(tmp_path, "--base-url", server.base_url, "-k", "ids_get_their", "--json", "r.json", key=KEY)
        counters = server.counters()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["mode"] == "live" and report["totals"]["passed"] == 5
    assert counters["tasks_created"] == 0


def test_missing_suite_dependencies_are_named_with_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real_version = metadata.version

    def version(name: str) -> str:
        if name == "respx":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(_cli.metadata, "version", version)
    summary = tmp_path / "s.md"
    assert _cli.run_suite(["--summary-md", str(summary)]) == 2
    message = "the conformance suite needs respx: pip install 'seedream[conformance]'"
    assert message in capsys.readouterr().err
    assert message in summary.read_text(encoding="utf-8")


def test_seedream_conformance_and_python_m_are_one_command() -> None:
    runner = CliRunner()
    via_seedream = runner.invoke(app, ["conformance", "--help"], prog_name="seedream")
    assert via_seedream.exit_code == 0
    for option in ("--base-url", "--allow-spend", "--server-examples", "--junitxml", "--summary-md", "--json"):
        assert option in via_seedream.output
    assert "3 the server could not be reached" in " ".join(via_seedream.output.split())
    via_module = subprocess.run(
        [sys.executable, "-m", "seedream.conformance", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: python -m seedream.conformance [OPTIONS]" in via_module.stdout

    def without_usage(text: str) -> list[str]:
        return [line for line in text.splitlines() if "Usage:" not in line]

    assert without_usage(via_module.stdout) == without_usage(via_seedream.output)


def test_nox_conformance_session_runs_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    import noxfile

    calls: list[tuple[str, ...]] = []

    class Session:
        posargs: ClassVar[list[str]] = ["--base-url", "https://api.example.test"]

        def install(self, *args: str) -> None:
            pass

        def run(self, *args: str, **kwargs: Any) -> None:
            calls.append(args)

    noxfile.conformance(Session())
    assert calls == [("seedream", "conformance", "--base-url", "https://api.example.test")]


def _third_party_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"seedream", "seedream_client", "__future__"}


def test_every_module_the_suite_imports_comes_with_seedream_or_its_conformance_extra() -> None:
    declared: set[str] = set()
    for requirement in metadata.requires("seedream") or []:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        assert name is not None
        if ";" not in requirement or re.search(r"extra\s*==\s*['\"]conformance['\"]", requirement):
            declared.add(re.sub(r"[-_.]+", "-", name.group(0)).lower())
    providers = metadata.packages_distributions()
    modules = set().union(*(_third_party_imports(p) for p in Path(_cli.SUITE).glob("*.py")))
    assert {"pytest", "hypothesis", "schemathesis", "respx", "openapi_spec_validator"} <= modules
    undeclared = set()
    for module in modules:
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [module])}
        if not dists & declared:
            undeclared.add(module)
    # requests comes with schemathesis (it sends its cases with it)
    assert undeclared <= {"requests"}, undeclared
