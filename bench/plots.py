"""Pictures of the benchmark results: figures 3, 4 and 5 as PNGs next to ``latest.json``.

    python -m bench.plots                          # bench-results/latest.json -> bench-results/*.png
    python -m bench.plots results.json --out DIR

``nox -s bench`` draws them after every run (``bench.run``). Each picture is
drawn from the rows of the results file alone, so an old file can be drawn
again. A figure whose rows are missing (not run, or not measured) gives no
picture rather than an empty one.

* figure 3: polls per task against mean detection latency, one point per
  polling strategy (error bars: the lowest and highest round);
* figure 4: tasks in flight over time on one client (ours and bare httpx);
* figure 5: download throughput (bars: median; whiskers: lowest and highest round).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/plots.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from bench._plot import Chart
from bench._spec_bodies import ROOT

__all__ = ["FIGURE_FILES", "render_figures"]

FIGURE_FILES = {"3": "figure-3-polling.png", "4": "figure-4-in-flight.png", "5": "figure-5-download.png"}
_POLLS, _LATENCY = "polls per task", "mean detection latency"


def _measured(doc: dict[str, Any], figure: str) -> list[dict[str, Any]]:
    return [row for row in doc.get("rows", []) if row.get("figure") == figure and row.get("value")]


def _spread(row: dict[str, Any]) -> tuple[float, float, float]:
    value = row["value"]
    return float(value["median"]), float(value["low"]), float(value["high"])


def _figure_3(doc: dict[str, Any], out: Path) -> Path | None:
    by_strategy: dict[str, dict[str, tuple[float, float, float]]] = {}
    for row in _measured(doc, "3"):
        strategy, _, metric = str(row["name"]).rpartition(": ")
        if metric in (_POLLS, _LATENCY):
            by_strategy.setdefault(strategy, {})[metric] = _spread(row)
    chart = Chart(
        "Figure 3: polls per task against detection latency, per polling strategy",
        "polls per task",
        "mean detection latency (simulated s)",
    )
    for strategy, metrics in by_strategy.items():
        if _POLLS in metrics and _LATENCY in metrics:
            (x, xl, xh), (y, yl, yh) = metrics[_POLLS], metrics[_LATENCY]
            chart.points(strategy, [(x, y, xl, xh, yl, yh)])
    if not chart.series:
        return None
    chart.note("lower left is better; error bars: lowest and highest round")
    return chart.save(out / FIGURE_FILES["3"])


def _figure_4(doc: dict[str, Any], out: Path) -> Path | None:
    chart = Chart(
        "Figure 4: tasks in flight over time on one client", "seconds since the first submit", "tasks in flight"
    )
    for row in _measured(doc, "4"):
        timeline = (row.get("extra") or {}).get("timeline")
        if timeline:
            chart.line(str(row["name"]).split(",")[0], [(float(t), float(n)) for t, n in timeline])
    if not chart.series:
        return None
    chart.note("in flight: from the moment the task's id is known until the client sees the task end")
    return chart.save(out / FIGURE_FILES["4"])


def _figure_5(doc: dict[str, Any], out: Path) -> Path | None:
    rows = [row for row in _measured(doc, "5") if row.get("unit") == "MB/s"]
    if not rows:
        return None
    names = [str(row["name"]).split(": ")[0] for row in rows]
    chart = Chart("Figure 5: download throughput of one result image", "", "MB/s", categories=names)
    for index, row in enumerate(rows):
        chart.bar(names[index], index, *_spread(row))
    chart.note("bars: median round; whiskers: lowest and highest round")
    return chart.save(out / FIGURE_FILES["5"])


def render_figures(doc: dict[str, Any], out: Path) -> list[Path]:
    """Draw every figure the results ``doc`` (the ``latest.json`` object) has rows for; returns the PNGs written."""
    drawn = [draw(doc, out) for draw in (_figure_3, _figure_4, _figure_5)]
    return [path for path in drawn if path is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", type=Path, default=ROOT / "bench-results" / "latest.json")
    parser.add_argument("--out", type=Path, default=None, help="directory for the PNGs [default: the results' own]")
    args = parser.parse_args(argv)
    doc = json.loads(args.results.read_text(encoding="utf-8"))
    for path in render_figures(doc, args.out or args.results.parent):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
