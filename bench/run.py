"""Run the benchmark figures, print one table, write it as JSON and Markdown.

    python -m bench.run                 # every figure (about 10 minutes on 2 cores)
    python -m bench.run --quick         # short rounds: checks the harness, figures are rough
    python -m bench.run --figures 1,3   # some figures only
    python -m bench.run --skip-suite    # figure 6 without the offline test-suite run

Writes ``bench-results/latest.json`` (every row, machine, date, arguments),
``bench-results/latest.md`` (the table) and the pictures of figures 3, 4 and
5 (``figure-*.png``, see ``bench/plots.py``); ``--out DIR`` changes the
directory. ``--docs-page docs/benchmarks.md`` (what ``nox -s bench`` passes)
also rewrites the table on that page, between its markers, after a full run
(all figures, no ``--quick`` or ``--skip-suite``): rough or partial figures never replace it. No
figure ever fails the run: a missing piece is a row saying ``not measured: <why>``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from bench import fig_client, fig_concurrency, fig_download, fig_polling, fig_tooling
from bench._context import Context
from bench._docs_page import update_page
from bench._results import Row, machine, not_measured, now, render_markdown, render_text, write_json
from bench._spec_bodies import ROOT
from bench.plots import render_figures

FIGURES: dict[str, tuple[str, Callable[[Context], list[Row]]]] = {
    "1": ("Client CPU per create call, in-process httpx.MockTransport", fig_client.figure_1),
    "2": ("Wall time per create call over loopback to uvicorn (server in a child process)", fig_client.figure_2),
    "3": ("Polling: polls per task and detection latency (simulated seconds)", fig_polling.figure_3),
    "4": ("Concurrency: 1,000 tasks in flight on one async client", fig_concurrency.figure_4),
    "5": ("Download of one 3072x3072 result", fig_download.figure_5),
    "6": ("Regeneration and offline suite wall times", fig_tooling.figure_6),
}
TITLES = {number: title for number, (title, _) in FIGURES.items()}


def is_full_run(*, quick: bool, skip_suite: bool, figures: list[str]) -> bool:
    """Whether a run's table may replace the docs page's: every figure, at full length, the suite timed."""
    return not quick and not skip_suite and sorted(figures) == sorted(FIGURES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short rounds (a smoke run, rough figures)")
    parser.add_argument("--skip-suite", action="store_true", help="do not run the offline test suite (figure 6)")
    parser.add_argument("--figures", default=",".join(FIGURES), help="comma-separated figure numbers (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results", help="directory for latest.json/.md")
    parser.add_argument(
        "--docs-page", type=Path, help="after a full run, rewrite the table between the markers of this page"
    )
    args = parser.parse_args(argv)
    wanted = [f.strip() for f in args.figures.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FIGURES]
    if unknown:
        parser.error(f"--figures: unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")

    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seedream-bench-") as tmp:
        ctx = Context(quick=args.quick, workdir=Path(tmp), skip_suite=args.skip_suite)
        for number in wanted:
            title, figure = FIGURES[number]
            print(f"[bench] figure {number}: {title} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                rows += figure(ctx)
            except Exception as exc:  # one broken figure must not hide the others
                traceback.print_exc()
                rows.append(not_measured(number, title, f"{type(exc).__name__}: {exc}".splitlines()[0][:200]))
            print(f"[bench] figure {number} took {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    command = "nox -s bench" + (
        " -- " + " ".join(argv if argv is not None else sys.argv[1:]) if (argv or sys.argv[1:]) else ""
    )
    meta = {
        "date": now(),
        "machine": machine(),
        "command": command,
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print()
    print(render_text(rows, TITLES))
    print(f"\n{meta['date']}; {meta['machine']['summary']}; {meta['seconds']} s")
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "latest.json", rows, meta)
    table = render_markdown(rows, TITLES, meta)
    (args.out / "latest.md").write_text(table, encoding="utf-8")
    print(f"wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    if args.docs_page is not None:
        if not is_full_run(quick=args.quick, skip_suite=args.skip_suite, figures=wanted):
            print(f"{args.docs_page} left as it is: only a full run (all figures, no --quick/--skip-suite) rewrites it")
        elif update_page(args.docs_page, table):
            print(f"wrote the table of {args.docs_page}")
    for picture in render_figures(json.loads((args.out / "latest.json").read_text(encoding="utf-8")), args.out):
        print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
