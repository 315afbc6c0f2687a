"""``seedream conformance`` and ``python -m seedream.conformance``: the installed suite, run by pytest.

Offline against the embedded simulator by default; ``--base-url`` for a live
server. Options the command does not name (``-k EXPR``, ``-x``, any option the
suite's conftest adds) are passed to pytest as they are. The exit code is the
verdict of :mod:`seedream.conformance._reports` (0 conforms, 1 drift, 2 usage,
3 unreachable). ``nox -s conformance`` runs this command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

from ._reports import EXIT_USAGE, RunInfo, write_reports

__all__ = ["EXTRA", "SUITE", "conformance_command", "main", "missing_requirements", "run_suite"]

SUITE = Path(__file__).resolve().parent
_INI = SUITE / "conformance.ini"
EXTRA = "conformance"
_WORDS = {0: "conforms", 1: "drift or nonconformance found", 2: "usage or configuration error", 3: "server unreachable"}


def missing_requirements() -> list[str]:
    """The requirements of ``seedream[conformance]`` that are not installed (names as in the metadata)."""
    missing = []
    for requirement in metadata.requires("seedream") or []:
        if not re.search(rf"extra\s*==\s*['\"]{EXTRA}['\"]", requirement):
            continue
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if name is None:  # pragma: no cover - metadata requirement strings always start with a name
            continue
        try:
            metadata.version(name.group(0))
        except metadata.PackageNotFoundError:
            missing.append(name.group(0))
    return missing


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of ``name`` in pytest arguments (``--name V`` or ``--name=V``; the last one wins)."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def run_suite(pytest_args: Sequence[str]) -> int:
    """Run the installed suite with these pytest arguments; return the verdict's exit code.

    pytest runs in a child interpreter, as ``python -m pytest`` would: this process has imported
    seedream, which pytest must see first to load its plugin with assertion rewriting. The child's
    conftest writes the verdict into the JSON report. A run that never got that far (missing
    dependencies, pytest refused its arguments) is a usage error, and the reports asked for say so:
    a CI job always has a summary to show.
    """
    args = list(pytest_args)
    missing = missing_requirements()
    if missing:
        problem = f"the conformance suite needs {', '.join(missing)}: pip install 'seedream[{EXTRA}]'"
        print(f"error: {problem}", file=sys.stderr)
        _write_usage_reports(args, _option(args, "--conformance-json"), problem, status=None)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="seedream-conformance-") as scratch:
        report = _option(args, "--conformance-json")
        if report is None:
            report = os.path.join(scratch, "report.json")
            args += ["--conformance-json", report]
        Path(report).unlink(missing_ok=True)  # the verdict is read from it: never a previous run's
        # Hypothesis keeps its example database there, not in the user's working directory.
        env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": os.path.join(scratch, "hypothesis")}
        command = [sys.executable, "-m", "pytest", str(SUITE), "-c", str(_INI), f"--rootdir={SUITE}", *args]
        status = subprocess.run(command, env=env, check=False).returncode
        try:
            code = json.loads(Path(report).read_text(encoding="utf-8"))["exit_code"]
        except (OSError, ValueError, KeyError):
            code = EXIT_USAGE
            stopped = f"pytest stopped before the suite ran (exit {status}; see the log)"
            _write_usage_reports(args, report, stopped, status)
    code = code if code in _WORDS else EXIT_USAGE
    print(f"seedream conformance: {_WORDS[code]} (exit {code})", file=sys.stderr)
    return int(code)


def _write_usage_reports(args: Sequence[str], json_path: str | None, problem: str, status: int | None) -> None:
    base_url = _option(args, "--base-url")
    spend = _option(args, "--allow-spend") or "0"
    write_reports(
        summary_md=_option(args, "--summary-md"),
        json_path=json_path,
        info=RunInfo("live" if base_url else "offline", base_url, int(spend) if spend.isdigit() else 0),
        exit_code=EXIT_USAGE,
        pytest_status=-1 if status is None else status,
        rows={},
        notes=[],
        failures=[],
        problem=problem,
    )


_EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def conformance_command(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="Test this live server (key from EVOLINK_API_KEY) instead of the embedded simulator.",
        ),
    ] = None,
    allow_spend: Annotated[
        int,
        typer.Option(
            "--allow-spend",
            min=0,
            metavar="N",
            help="Live mode: allow at most N billable one-image generations (default 0: zero-spend).",
        ),
    ] = 0,
    server_examples: Annotated[
        int | None,
        typer.Option(
            "--server-examples",
            min=1,
            metavar="N",
            help="Hypothesis examples per server check [default: 25 offline, 10 live].",
        ),
    ] = None,
    task_id: Annotated[
        list[str] | None,
        typer.Option(
            "--task-id",
            metavar="ID",
            help="Also read this task you own and judge its answers strictly (repeatable; reading is free).",
        ),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger",
            metavar="PATH",
            dir_okay=False,
            help="Live mode: read the newest tasks of this ledger made against --base-url (default: your ledger).",
        ),
    ] = None,
    junitxml: Annotated[
        Path | None, typer.Option("--junitxml", metavar="PATH", dir_okay=False, help="Write a JUnit XML report.")
    ] = None,
    summary_md: Annotated[
        Path | None,
        typer.Option(
            "--summary-md",
            metavar="PATH",
            dir_okay=False,
            help="Write a Markdown summary (operation x check, spend guard, failures), e.g. $GITHUB_STEP_SUMMARY.",
        ),
    ] = None,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", metavar="PATH", dir_okay=False, help="Write the results and the verdict as JSON."),
    ] = None,
) -> None:
    """Run the conformance suite: spec, client and a server against the bundled spec.

    Live, zero-spend mode also reads the tasks you own (--task-id, the ledger's newest tasks of
    --base-url) and judges every answer by the spec and the expectations profile, and reports the
    drift the client recorded in that ledger for --base-url (`seedream drift`); with
    --allow-spend N one task is followed to its end and its images checked, then the stateful phase.

    Exit codes: 0 conforms; 1 drift or nonconformance; 2 usage or configuration error
    (bad option, no key for live mode, the key refused); 3 the server could not be reached
    or answered only with transport errors. Other options go to pytest as they are
    (-k EXPR, -x, -q, and any live option of the suite).
    """
    args: list[str] = []
    if base_url is not None:
        args += ["--base-url", base_url]
    args += ["--allow-spend", str(allow_spend)]
    if server_examples is not None:
        args += ["--server-examples", str(server_examples)]
    for one in task_id or []:
        args += ["--task-id", one]
    if ledger is not None:
        args += ["--ledger", str(ledger)]
    if junitxml is not None:
        args.append(f"--junitxml={junitxml}")
    if summary_md is not None:
        args += ["--summary-md", str(summary_md)]
    if json_path is not None:
        args += ["--conformance-json", str(json_path)]
    raise typer.Exit(run_suite([*args, *ctx.args]))


def main(argv: Sequence[str] | None = None, prog_name: str = "python -m seedream.conformance") -> None:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); exits with the verdict's code."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(context_settings=_EXTRA_ARGS)(conformance_command)
    app(args=list(argv) if argv is not None else sys.argv[1:], prog_name=prog_name)
