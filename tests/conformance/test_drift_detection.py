"""Done-when of issue 12: a zero-spend run over the ledger of one `seedream generate` sees each kind of drift.

The run judges the tasks the ledger names, the ledger's own record of each request, the free error
requests it sends, and the drift the client's monitor recorded in that ledger during the generate
(rows of the report's ``deviations`` with first/last seen and count): the one kind that lives only in
the create answer (a create-only enum value) is seen by the monitor alone.

For each kind of :data:`seedream.testing._drift_server.KINDS` (and each allowed
change of :data:`~seedream.testing._drift_server.ALLOWED`), a drifted simulator is
served on 127.0.0.1; the real command ``seedream generate`` is run against
it with its own ledger; then the conformance suite, zero-spend, against that
server with ``--ledger`` (in-process: the same suite, options and verdict as
``seedream conformance``, without a fresh interpreter per run; a selection
``-k`` of the suite that reads owned tasks and sends the free error requests).
A drift is detected when the verdict is 1 and a finding names it; an allowed
change must leave the verdict 0 with no deviation. The detection table is
printed (``pytest -s``) and is the one in README.md, "The conformance suite".
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seedream._cli import app as cli
from seedream.conformance._cli import SUITE
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.testing._drift_server import ALLOWED, KINDS, DriftingApp, ServerDrift

pytest_plugins = ["pytester"]

KEY = "sk-drift-detection"
# The owned-task reads and the ledger's record, plus the free error requests (rejected bodies,
# invalid and unknown ids, missing and wrong keys): what zero-spend live mode sends.
SELECTION = "owned or every_body_the_spec_rejects or invalid_and_unknown or missing_key or wrong_key"


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    drift: bool
    exit_code: int
    named: str | None  # the finding that named the drift (or, for an allowed change, the first flag raised)
    deviations: int
    drifted: int  # answers the server changed
    seconds: float

    @property
    def ok(self) -> bool:
        if self.drift:
            return self.exit_code == 1 and self.named is not None
        return self.exit_code == 0 and self.deviations == 0


def _findings(report: dict[str, Any]) -> list[str]:
    rows = [
        " ".join(str(d[k]) for k in ("source", "operation", "pointer", "kind", "example", "rule"))
        for d in report["deviations"]
    ]
    return rows + [str(f["message"]) for f in report["failures"]]


def _naming(drift: ServerDrift, findings: list[str]) -> str | None:
    named = []
    for words in drift.expect:
        hit = next((f for f in findings if all(w in f for w in words)), None)
        if hit is None:
            return None
        named.append(hit)
    return "; ".join(named) if named else None


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp: Path, drift: ServerDrift, *extra: str) -> Row:
    started = time.perf_counter()
    server_app = DriftingApp(drift, SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=0.001))
    tmp.mkdir(exist_ok=True)
    ledger, report = tmp / "ledger.sqlite3", tmp / "report.json"
    monkeypatch.setenv("EVOLINK_API_KEY", KEY)
    try:
        with run_simulator(app=server_app) as server:
            generate = ["generate", "a lighthouse at dusk", "--out", str(tmp / "out"), "--timeout", "2"]
            generate += ["--base-url", server.base_url, "--ledger", str(ledger)]
            CliRunner().invoke(cli, generate, env={"EVOLINK_API_KEY": KEY})  # fails or not: the drift decides
            made = server_app.drifted
            pytester.runpytest_inprocess(
                str(SUITE),
                "-c",
                str(SUITE / "conformance.ini"),
                f"--rootdir={SUITE}",
                "--base-url",
                server.base_url,
                "--ledger",
                str(ledger),
                "--server-examples",
                "3",
                "-k",
                SELECTION,
                "--conformance-json",
                str(report),
                "-q",
                *extra,
            )
    finally:
        server_app.close()
    document = json.loads(report.read_text(encoding="utf-8"))
    findings = _findings(document)
    named = _naming(drift, findings) if drift.drift else (findings[0] if findings else None)
    return Row(
        drift.kind,
        drift.name,
        drift.drift,
        int(document["exit_code"]),
        named,
        len(document["deviations"]),
        made,
        time.perf_counter() - started,
    )


def _table(rows: list[Row]) -> str:
    lines = [
        "| kind | drift | generate's answers drifted | exit | detected | named by | s |",
        "|---|---|---:|---:|---|---|---:|",
    ]
    for r in rows:
        verdict = ("yes" if r.ok else "**no**") if r.drift else ("not flagged" if r.ok else "**flagged**")
        said = (r.named or "-").replace("|", "\\|")[:110]
        lines.append(f"| {r.kind} | {r.name} | {r.drifted} | {r.exit_code} | {verdict} | {said} | {r.seconds:.1f} |")
    return "\n".join(lines)


@pytest.mark.slow
def test_zero_spend_run_over_the_ledger_detects_every_drift_kind_and_flags_no_allowed_change(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = []
    for index, drift in enumerate(KINDS + ALLOWED):
        tmp = tmp_path / f"run{index}"
        tmp.mkdir()
        rows.append(_run(pytester, monkeypatch, tmp, drift))
    detected = [r for r in rows if r.drift and r.ok]
    flagged = [r for r in rows if not r.drift and not r.ok]
    table = _table(rows)
    with capsys.disabled():
        print(
            f"\n{table}\n\ndetected {len(detected)} of {len(KINDS)} kinds; "
            f"{len(flagged)} of {len(ALLOWED)} allowed changes flagged"
        )
    assert len({r.kind for r in rows if r.drift}) == 12
    # Every kind's drift reached the generate run (or, for error envelopes, only the suite's own requests).
    assert all(r.drifted > 0 for r in rows if r.drift and r.kind != "error envelope"), table
    assert len(detected) == len(KINDS), table
    assert flagged == [], table


@pytest.mark.slow
def test_a_create_only_drift_is_seen_by_the_client_monitor_at_zero_spend_and_by_the_followed_task_in_spend_mode(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    create_only = next(k for k in KINDS if k.kind == "enum value (create only)")
    zero = _run(pytester, monkeypatch, tmp_path / "zero", create_only)
    # the task queries read later are correct: only the generate's create answer carried it, and the monitor saw it
    assert zero.ok and zero.named is not None and zero.named.startswith("client drift monitor (ledger)"), zero
    spend = _run(pytester, monkeypatch, tmp_path / "spend", create_only, "--allow-spend", "1")
    assert spend.ok and spend.named is not None, spend
    report = json.loads((tmp_path / "spend" / "report.json").read_text(encoding="utf-8"))
    sources = {d["source"] for d in report["deviations"] if d["pointer"] == "/status"}
    assert {"client drift monitor (ledger)", "followed task (create)"} <= sources, sources
