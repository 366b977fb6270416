"""Chart geometry for server-drawn SVG: bars, stacked bars, lines.

The pages draw with SVG attributes only (the site's content policy allows no inline
style); each chart gives its shapes in a fixed `viewBox` that scales to the page's
width, and the page prints the same figures in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 84, 12, 12, 36
"""Margins; the left one holds a label as wide as « 1 003 189 € »."""
PALETTE = ("#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6f42c1", "#20c997", "#6c757d")
"""Bootstrap's blue, green, orange, red, purple, teal, grey: told apart in the legend."""
Number = Decimal | int | None


@dataclass(frozen=True)
class Shape:
    """A rectangle, with the words a screen reader and a hovering mouse give for it."""

    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str


@dataclass(frozen=True)
class Tick:
    """A label along an axis, at `at` (x for the bottom axis, y for the left one)."""

    at: float
    text: str


@dataclass(frozen=True)
class Series:
    """A line: its name, colour, points (x, y) where it has a value, and their titles."""

    name: str
    fill: str
    points: list[tuple[float, float, str]]

    @property
    def path(self) -> str:
        """The polyline's `points` attribute."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass
class Chart:
    """A chart's shapes, in a `width` × `height` viewBox."""

    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Shape] = field(default_factory=list)
    lines: list[Series] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    """(colour, name) of each series or segment."""
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM
    horizontal: bool = False
    """Bars along the x axis, one per row labelled on the left (grid lines only below)."""

    @property
    def empty(self) -> bool:
        """Nothing to draw."""
        return not self.bars and not any(s.points for s in self.lines)


def _scale_top(values: Sequence[Number]) -> Decimal:
    top = max((Decimal(v) for v in values if v is not None), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def _y_ticks(top: Decimal, fmt: Callable[[Decimal], str], plot: float) -> list[Tick]:
    return [Tick(TOP + plot * (1 - i / 4), fmt(top * Decimal(i) / 4)) for i in range(5)]


def columns(title: str, labels: Sequence[str], values: Sequence[Number],
            fmt: Callable[[Decimal], str], fill: str = PALETTE[0],
            top: Decimal | None = None, ticks: Sequence[str] | None = None) -> Chart:
    """One vertical bar per label (no bar where a value is None); `ticks`, shorter words
    for the axis than the labels the bars' titles give."""
    chart = Chart(title)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    scale = top or _scale_top(values)
    step = plot_w / max(len(labels), 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        chart.x_ticks.append(Tick(LEFT + step * (i + 0.5), (ticks or labels)[i]))
        if value is None:
            continue
        h = float(Decimal(value) / scale) * plot_h
        chart.bars.append(Shape(LEFT + step * i + step * 0.15, TOP + plot_h - h, step * 0.7,
                                h, fill, f"{label} : {fmt(Decimal(value))}"))
    chart.y_ticks = _y_ticks(scale, fmt, plot_h)
    return chart


def lines(title: str, labels: Sequence[str], series: dict[str, Sequence[Number]],
          fmt: Callable[[Decimal], str], top: Decimal | None = None,
          ticks: Sequence[str] | None = None) -> Chart:
    """One line per series over the labels, broken where a value is None."""
    chart = Chart(title)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    scale = top or _scale_top([v for values in series.values() for v in values])
    step = plot_w / max(len(labels), 1)
    for i, label in enumerate(ticks or labels):
        chart.x_ticks.append(Tick(LEFT + step * (i + 0.5), label))
    for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
        points = [(LEFT + step * (i + 0.5), TOP + plot_h * (1 - float(Decimal(v) / scale)),
                   f"{name}, {labels[i]} : {fmt(Decimal(v))}")
                  for i, v in enumerate(values) if v is not None]
        chart.lines.append(Series(name, colour, points))
        chart.legend.append((colour, name))
    chart.y_ticks = _y_ticks(scale, fmt, plot_h)
    return chart


def stacked_rows(title: str, rows: Sequence[tuple[str, Sequence[Decimal]]],
                 parts: Sequence[str], fmt: Callable[[Decimal], str],
                 counts: bool = False) -> Chart:
    """One horizontal bar per row, cut into `parts` (e.g. an agent's aging buckets); for
    `counts`, the scale ends on a multiple of 4 so that its ticks are whole numbers."""
    label_w, bar_h = 150, 22
    chart = Chart(title, height=round(TOP + bar_h * 1.5 * max(len(rows), 1) + BOTTOM),
                  left=label_w, horizontal=True)
    plot_w = WIDTH - label_w - RIGHT
    scale = _scale_top([sum(values, Decimal(0)) for _, values in rows])
    if counts:
        scale = Decimal(math.ceil(scale / 4) * 4)
    for r, (label, values) in enumerate(rows):
        y = TOP + r * bar_h * 1.5
        chart.y_ticks.append(Tick(y + bar_h / 2, label))
        x = float(label_w)
        for colour, part, value in zip(PALETTE, parts, values, strict=False):
            w = float(value / scale) * plot_w
            if w > 0:
                chart.bars.append(Shape(x, y, w, bar_h, colour, f"{label}, {part} : {fmt(value)}"))
            x += w
    chart.legend = list(zip(PALETTE, parts, strict=False))
    chart.bottom = chart.height - BOTTOM
    chart.x_ticks = [Tick(label_w + plot_w * i / 4, fmt(scale * Decimal(i) / 4))
                     for i in range(5)]
    return chart
