"""One row of the results table, and the table as text, Markdown and JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Row", "Spread", "machine", "not_measured", "render_markdown", "render_text", "write_json"]


@dataclass(frozen=True)
class Spread:
    """Median of several rounds with the smallest and largest round."""

    median: float
    low: float
    high: float
    rounds: int

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


@dataclass
class Row:
    figure: str
    name: str
    value: Spread | None
    unit: str
    baseline: str | None = None  # name of the row this one is compared with
    ratio: Spread | None = None  # per-round ratios against the baseline
    target: float | None = None  # ratio must be <= target
    note: str = ""
    floor: float | None = None  # ratio must be >= floor (a throughput held to a baseline)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def meets_target(self) -> bool | None:
        if self.ratio is None or (self.target is None and self.floor is None):
            return None
        if self.floor is not None:
            return self.ratio.median >= self.floor
        return self.ratio.median <= self.target  # type: ignore[operator]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["meets_target"] = self.meets_target
        data["measured"] = self.value is not None
        return data


def not_measured(figure: str, name: str, why: str, unit: str = "") -> Row:
    return Row(figure, name, None, unit, note=f"not measured: {why}")


def _num(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if abs(x) >= 0.1 else f"{x:.3g}"


def _value(row: Row) -> str:
    if row.value is None:
        return "—"
    v = row.value
    text = f"{_num(v.median)} {row.unit}".strip()
    if v.rounds > 1 and v.low != v.high:
        text += f" ({_num(v.low)}–{_num(v.high)})"
    return text


def _ratio(row: Row) -> str:
    if row.ratio is None:
        return "—"
    r = row.ratio
    text = f"{r.median:.2f}×"
    if r.rounds > 1 and r.low != r.high:
        text += f" ({r.low:.2f}–{r.high:.2f})"
    return text


def _target(row: Row) -> str:
    mark = {True: "met", False: "MISSED", None: ""}[row.meets_target]
    if row.floor is not None:
        return f"≥ {row.floor:.2f}× {mark}".strip()
    if row.target is None:
        return ""
    return f"≤ {row.target:.2f}× {mark}".strip()


def _cells(row: Row) -> list[str]:
    vs = f"vs {row.baseline}" if row.baseline and row.ratio is not None else ""
    return [
        row.figure,
        row.name,
        _value(row),
        f"{_ratio(row)} {vs}".strip() if vs else _ratio(row),
        _target(row),
        row.note,
    ]


HEADERS = ["#", "measurement", "median (min–max)", "ratio (min–max)", "target", "note"]


def _grouped(rows: list[Row], titles: dict[str, str]) -> list[tuple[str | None, Row | None]]:
    """Rows with a heading (figure number and title) before each figure's first row."""
    out: list[tuple[str | None, Row | None]] = []
    current = None
    for row in rows:
        if row.figure != current:
            current = row.figure
            out.append((f"{row.figure}. {titles.get(row.figure, '')}".rstrip(". "), None))
        out.append((None, row))
    return out


def render_text(rows: list[Row], titles: dict[str, str]) -> str:
    body = [_cells(r) for r in rows]
    widths = [min(max([len(h)] + [len(c[i]) for c in body]), 48) for i, h in enumerate(HEADERS[:-1])]
    widths[0] = 1

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + "  " + cells[-1]

    out = [line(HEADERS), "-" * (sum(widths) + 2 * len(widths) + 4)]
    for heading, row in _grouped(rows, titles):
        out.append(f"\n{heading}" if heading is not None else line(_cells(row)) if row else "")
    return "\n".join(out)


def render_markdown(rows: list[Row], titles: dict[str, str], meta: dict[str, Any]) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = [
        f"Measured {meta['date']} on {meta['machine']['summary']} with `{meta['command']}`.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    for heading, row in _grouped(rows, titles):
        if heading is not None:
            lines.append(f"| **{esc(heading)}** |" + " |" * (len(HEADERS) - 1))
        elif row is not None:
            lines.append("| " + " | ".join(esc(c) for c in _cells(row)) + " |")
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    cores = os.cpu_count() or 0
    info = {
        "cpu": _cpu_model(),
        "cores": cores,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
    }
    info["summary"] = f"{info['cpu']}, {cores} cores, {info['implementation']} {info['python']}, {info['os']}"
    return info


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**meta, "argv": sys.argv[1:], "rows": [r.to_json() for r in rows]}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
