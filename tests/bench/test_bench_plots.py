"""The bench pictures: drawn from a small results file to valid PNGs, one per figure that has rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from bench.plots import FIGURE_FILES, render_figures

ROOT = Path(__file__).resolve().parents[2]


def _row(figure: str, name: str, median: float, unit: str, **extra: Any) -> dict[str, Any]:
    value = {"median": median, "low": median * 0.9, "high": median * 1.1, "rounds": 3}
    return {"figure": figure, "name": name, "value": value, "unit": unit, "extra": extra}


FAKE = {
    "rows": [
        _row("3", "fixed 3 s: polls per task", 15.0, "polls"),
        _row("3", "fixed 3 s: mean detection latency", 1.5, "s"),
        _row("3", "fixed 10 s: polls per task", 5.0, "polls"),
        _row("3", "fixed 10 s: mean detection latency", 5.0, "s"),
        _row("3", "ours (linear progress): polls per task", 3.0, "polls"),
        _row("3", "ours (linear progress): mean detection latency", 0.6, "s"),
        _row(
            "4",
            "ours (AsyncSeedream submit + wait), 50 tasks: wall time",
            4.0,
            "s",
            timeline=[[0, 0], [0.5, 50], [2.0, 50], [3.0, 20], [4.0, 0]],
        ),
        _row(
            "4",
            "bare httpx.AsyncClient, 50 tasks: wall time",
            4.5,
            "s",
            timeline=[[0, 0], [0.4, 50], [3.5, 10], [4.5, 0]],
        ),
        _row("5", "bare httpx streaming: throughput", 900.0, "MB/s"),
        _row("5", "ours (Seedream.download): throughput", 700.0, "MB/s"),
        _row("5", "ours (Seedream.download): peak RSS growth", 2.0, "MiB"),
        {"figure": "5", "name": "not measured row", "value": None, "unit": "MB/s"},
    ]
}


def _colours(path: Path) -> int:
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()  # a truncated file fails here
        return len(image.convert("RGB").getcolors(1 << 24) or [])


def test_every_figure_with_rows_is_drawn_as_a_png_with_its_series_colours(tmp_path: Path) -> None:
    written = render_figures(FAKE, tmp_path)
    assert sorted(p.name for p in written) == sorted(FIGURE_FILES.values())
    for path in written:
        assert _colours(path) > 10  # axes, text and coloured series, not a blank canvas
    # The two curves of figure 4 differ: drawing without one changes the picture.
    alone = {"rows": [row for row in FAKE["rows"] if not row["name"].startswith("bare httpx.AsyncClient")]}
    other = render_figures(alone, tmp_path / "alone")
    four = next(p for p in other if p.name == FIGURE_FILES["4"])
    assert four.read_bytes() != (tmp_path / FIGURE_FILES["4"]).read_bytes()


def test_a_figure_without_measured_rows_gives_no_picture(tmp_path: Path) -> None:
    only_polling = {"rows": [row for row in FAKE["rows"] if row["figure"] == "3"]}
    assert [p.name for p in render_figures(only_polling, tmp_path)] == [FIGURE_FILES["3"]]
    assert render_figures({"rows": []}, tmp_path / "none") == []


def test_the_command_draws_a_results_file(tmp_path: Path) -> None:
    results = tmp_path / "latest.json"
    results.write_text(json.dumps(FAKE))
    done = subprocess.run([sys.executable, "-m", "bench.plots", str(results)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert all((tmp_path / name).is_file() for name in FIGURE_FILES.values())
