"""A small chart drawer on Pillow (a dependency already): points with error bars, lines, bars, axes, a legend.

Pillow rather than matplotlib: the charts are three simple kinds, and the
tests session (which checks the plots) then needs nothing beyond the
project's own dependencies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["PALETTE", "Chart", "nice_ticks"]

Colour = tuple[int, int, int]
PALETTE: tuple[Colour, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
)
_WIDTH, _HEIGHT = 960, 600
_LEFT, _RIGHT, _TOP, _BOTTOM = 90, 30, 60, 170


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


@dataclass
class _Series:
    kind: Literal["points", "line", "bar"]
    label: str
    colour: Colour
    # points: (x, y, x_low, x_high, y_low, y_high); line: (x, y, ...); bar: (index, median, low, high) in x/y/yl/yh
    data: list[tuple[float, float, float, float, float, float]] = field(default_factory=list)


class Chart:
    def __init__(self, title: str, x_label: str, y_label: str, *, categories: Sequence[str] | None = None) -> None:
        self.title, self.x_label, self.y_label = title, x_label, y_label
        self.categories = list(categories) if categories is not None else None
        self.series: list[_Series] = []
        self.notes: list[str] = []

    def _colour(self) -> Colour:
        return PALETTE[len(self.series) % len(PALETTE)]

    def points(self, label: str, xy: Sequence[tuple[float, float, float, float, float, float]]) -> None:
        """Points with error bars: (x, y, x_low, x_high, y_low, y_high)."""
        self.series.append(_Series("points", label, self._colour(), list(xy)))

    def line(self, label: str, xy: Sequence[tuple[float, float]]) -> None:
        self.series.append(_Series("line", label, self._colour(), [(x, y, x, x, y, y) for x, y in xy]))

    def bar(self, label: str, index: int, median: float, low: float, high: float) -> None:
        self.series.append(_Series("bar", label, self._colour(), [(index, median, index, index, low, high)]))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def save(self, path: Path) -> Path:
        from PIL import Image, ImageDraw, ImageFont

        image = Image.new("RGB", (_WIDTH, _HEIGHT), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=14)
        small = ImageFont.load_default(size=12)
        big = ImageFont.load_default(size=17)
        values = [row for series in self.series for row in series.data]
        bars = self.categories is not None
        if bars:
            x_low, x_high = -0.6, len(self.categories or []) - 0.4
        else:
            xs = [v for row in values for v in (row[0], row[2], row[3])] or [0.0, 1.0]
            x_ticks = nice_ticks(min(0.0, min(xs)), max(xs))
            x_low, x_high = x_ticks[0], x_ticks[-1]
        ys = [v for row in values for v in (row[1], row[4], row[5])] or [0.0, 1.0]
        y_ticks = nice_ticks(min(0.0, min(ys)), max(ys) * 1.05)
        y_low, y_high = y_ticks[0], y_ticks[-1]
        left, right, top, bottom = _LEFT, _WIDTH - _RIGHT, _TOP, _HEIGHT - _BOTTOM

        def px(x: float) -> float:
            return left + (x - x_low) / (x_high - x_low or 1.0) * (right - left)

        def py(y: float) -> float:
            return bottom - (y - y_low) / (y_high - y_low or 1.0) * (bottom - top)

        draw.text((left, 18), self.title, fill=(0, 0, 0), font=big)
        for tick in y_ticks:
            y = py(tick)
            draw.line((left, y, right, y), fill=(230, 230, 230))
            draw.text((left - 8, y), _fmt(tick), fill=(60, 60, 60), font=small, anchor="rm")
        if bars:
            for index, name in enumerate(self.categories or []):
                draw.text((px(index), bottom + 8), name, fill=(60, 60, 60), font=small, anchor="ma")
        else:
            for tick in x_ticks:
                x = px(tick)
                draw.line((x, top, x, bottom), fill=(240, 240, 240))
                draw.text((x, bottom + 8), _fmt(tick), fill=(60, 60, 60), font=small, anchor="ma")
        draw.rectangle((left, top, right, bottom), outline=(80, 80, 80))
        draw.text(((left + right) / 2, bottom + 30), self.x_label, fill=(0, 0, 0), font=font, anchor="ma")
        label = Image.new("RGBA", (int(draw.textlength(self.y_label, font=font)) + 4, 20), (255, 255, 255, 0))
        ImageDraw.Draw(label).text((2, 2), self.y_label, fill=(0, 0, 0), font=font)
        rotated = label.rotate(90, expand=True)
        image.paste(rotated, (14, int((top + bottom) / 2 - rotated.height / 2)), rotated)

        for series in self.series:
            c = series.colour
            if series.kind == "line":
                trace = [(px(x), py(y)) for x, y, *_ in series.data]
                if len(trace) > 1:
                    draw.line(trace, fill=c, width=3)
                continue
            for x, y, xl, xh, yl, yh in series.data:
                if series.kind == "bar":
                    half = 0.3 * (right - left) / (x_high - x_low)  # bars fill 60 % of their category
                    draw.rectangle((px(x) - half, py(y), px(x) + half, py(y_low)), fill=c)
                    draw.line((px(x), py(yl), px(x), py(yh)), fill=(0, 0, 0), width=2)
                    draw.text((px(x) + 8, py(y) - 4), _fmt(y), fill=(0, 0, 0), font=small, anchor="ld")
                    continue
                draw.line((px(xl), py(y), px(xh), py(y)), fill=c, width=2)
                draw.line((px(x), py(yl), px(x), py(yh)), fill=c, width=2)
                draw.ellipse((px(x) - 6, py(y) - 6, px(x) + 6, py(y) + 6), fill=c, outline=(0, 0, 0))
        legend_y = bottom + 52
        column = 0
        for series in self.series:
            if series.kind == "bar" and bars:
                continue  # the categories name the bars
            x = left + column * ((right - left) // 2)
            draw.rectangle((x, legend_y + 3, x + 14, legend_y + 13), fill=series.colour)
            draw.text((x + 20, legend_y), series.label, fill=(0, 0, 0), font=small)
            column += 1
            if column == 2:
                column, legend_y = 0, legend_y + 18
        for number, text in enumerate(self.notes):
            draw.text((left, _HEIGHT - 22 - 16 * (len(self.notes) - 1 - number)), text, fill=(90, 90, 90), font=small)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, "PNG")
        return path


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{value:g}"
