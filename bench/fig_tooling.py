"""Figure 6: regeneration and offline test-suite wall times.

Regeneration: ``python scripts/regenerate.py --check`` (bundle, validate,
generate with our templates, compare), against the plain generator run on
the vendor YAML timed in the same run. The offline suite: ``python -m pytest
-q -x -p no:cacheprovider tests src/seedream/conformance`` once (``--skip-suite`` skips it);
it has no baseline, so its row gives the time alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

from ._context import Context
from ._results import Row, Spread, not_measured
from ._spec_bodies import ROOT

__all__ = ["figure_6"]


def _timed(cmd: list[str], timeout: float) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, result


def figure_6(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    plain_seconds = ctx.plain_client()[1]
    regen: list[float] = []
    problem = ""
    for _ in range(ctx.pick(3, 1)):
        seconds, result = _timed([sys.executable, "scripts/regenerate.py", "--check"], 300)
        if result.returncode != 0:
            problem = " / ".join((result.stderr or result.stdout).strip().splitlines()[:3])
        regen.append(seconds)
    row = Row(
        "6",
        "regeneration: scripts/regenerate.py --check",
        Spread.of(regen),
        "s",
        baseline="plain generator run",
        ratio=Spread.of([r / plain_seconds for r in regen]),
        note=f"plain openapi-python-client on the vendor YAML: {plain_seconds:.2f} s",
    )
    if problem:
        row.note += f"; check FAILED (drift): {problem[:200]}"
    rows.append(row)

    if ctx.skip_suite:
        rows.append(not_measured("6", "offline suite: pytest tests + the suite", "--skip-suite given"))
        return rows
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests", "src/seedream/conformance"]
    try:
        seconds, result = _timed(cmd, 900)
    except subprocess.TimeoutExpired:
        rows.append(not_measured("6", "offline suite: pytest tests + the suite", "took longer than 900 s"))
        return rows
    outcome = re.compile(r"\d+ (passed|failed|errors?|skipped|xfailed|xpassed|deselected)|no tests ran")
    lines = [ln.strip("= ").strip() for ln in result.stdout.splitlines() if ln.strip()]
    summary = next((ln for ln in reversed(lines) if outcome.search(ln)), "")
    note = summary or f"pytest exit {result.returncode}"
    if result.returncode != 0:
        first = next((ln for ln in lines if ln.startswith(("FAILED", "ERROR"))), "")
        note = f"SUITE FAILED (exit {result.returncode}, -x stops at the first failure): {note}; {first}"[:300]
    rows.append(Row("6", "offline suite: pytest -q -x tests + the suite", Spread.of([seconds]), "s", note=note))
    return rows
