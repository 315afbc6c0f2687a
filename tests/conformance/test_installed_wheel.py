"""The suite as a user gets it: the wheel built, installed in a fresh venv, run from an empty folder.

No checkout is visible to the installed copy: the venv sees the wheel's
``seedream`` and, for its dependencies only, this environment's site-packages
(a plain path in a ``.pth`` file, so the editable install's own ``.pth``
pointing at the checkout is not processed). Everything is built and installed
without an index (no network); that the suite's imports are declared in the
``conformance`` extra is checked by ``test_command.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import KEY, closed_port, simulator

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Installed:
    venv: Path
    python: Path
    seedream: Path
    workdir: Path

    def run(self, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EVOLINK_API_KEY", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        # live runs read the default ledger: one of the test's own (absent), never the user's real one
        env["SEEDREAM_LEDGER"] = str(self.venv.parent / "no-ledger.sqlite3")
        if key is not None:
            env["EVOLINK_API_KEY"] = key
        return subprocess.run(
            [str(self.seedream), "conformance", *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def _run(command: Sequence[str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(REPO)])
    (wheel,) = dist.glob("seedream-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)])
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "_dependencies_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    workdir = root / "empty"
    workdir.mkdir()
    return Installed(venv, python, venv / "bin" / "seedream", workdir)


def test_the_installed_copy_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    where = _run(
        [
            str(installed.python),
            "-c",
            "import seedream, seedream_client, seedream.conformance as c; "
            "print(seedream.__file__, seedream_client.__file__, c.__file__)",
        ],
        cwd=installed.workdir,
    ).split()
    assert len(where) == 3
    for path in where:
        assert Path(path).is_relative_to(installed.venv), path


def test_offline_run_conforms_and_writes_reports_ci_can_read(installed: Installed) -> None:
    result = installed.run("--junitxml", "out/junit.xml", "--summary-md", "out/summary.md", "--json", "out/c.json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    suite = ET.parse(installed.workdir / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "seedream-conformance"
    assert int(suite.get("tests", "0")) > 300
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    summary = (installed.workdir / "out" / "summary.md").read_text(encoding="utf-8")
    assert "conforms (exit 0)" in summary
    assert "| layer | operation | check | passed | failed | cases |" in summary
    assert "| 1 spec |" in summary and "| 3 server (loopback) |" in summary
    assert "- spend guard (asgi):" in summary
    report = json.loads((installed.workdir / "out" / "c.json").read_text(encoding="utf-8"))
    assert (report["exit_code"], report["mode"], report["failures"]) == (0, "offline", [])
    # nothing left in the user's folder but the reports asked for
    assert sorted(p.name for p in installed.workdir.iterdir()) == ["out"]


def test_a_drifted_server_is_reported_as_drift(installed: Installed) -> None:
    with simulator(drift=True) as server:
        result = installed.run("--base-url", server.base_url, "--json", "drift.json", key=KEY)
        counters = server.counters()
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads((installed.workdir / "drift.json").read_text(encoding="utf-8"))
    assert report["mode"] == "live" and report["failures"]
    assert not any(f["transport"] for f in report["failures"])
    assert any("422" in f["message"] for f in report["failures"])
    assert counters["tasks_created"] == 0  # zero-spend held against the drifted server too


def test_a_closed_port_is_reported_as_unreachable(installed: Installed) -> None:
    result = installed.run("--base-url", f"http://127.0.0.1:{closed_port()}", "--json", "closed.json", key=KEY)
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads((installed.workdir / "closed.json").read_text(encoding="utf-8"))
    assert report["failures"] and all(f["transport"] for f in report["failures"])


def test_live_mode_without_a_key_is_a_usage_error(installed: Installed) -> None:
    with simulator() as server:
        result = installed.run("--base-url", server.base_url, "--summary-md", "nokey.md")
        assert server.counters()["requests"] == {}
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-2000:]
    assert "needs the API key in EVOLINK_API_KEY" in result.stdout + result.stderr
    assert "needs the API key in EVOLINK_API_KEY" in (installed.workdir / "nokey.md").read_text(encoding="utf-8")


def test_a_spend_run_creates_at_most_its_cap_including_the_stateful_phase(installed: Installed) -> None:
    """The run that once created 16 tasks under ``--allow-spend 3``: every request now passes the guard."""
    with simulator() as server:
        result = installed.run("--base-url", server.base_url, "--allow-spend", "3", "--json", "spend.json", key=KEY)
        created = server.counters()["tasks_created"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    notes = json.loads((installed.workdir / "spend.json").read_text(encoding="utf-8"))["notes"]
    (guard,) = [n for n in notes if n.startswith("spend guard (live)")]
    (stateful,) = [n for n in notes if n.startswith("stateful (live): steps")]
    sent = int(guard.split(": ", 1)[1].split()[0])
    assert created == sent <= 3, (created, guard)
    steps = re.search(r"'POST /v1/images/generations': (\d+)", stateful)
    assert steps and int(steps.group(1)) > 0, stateful  # the phase ran, live
    print(f"\n{guard}\n{stateful}\nstand-in: {created} tasks created")
