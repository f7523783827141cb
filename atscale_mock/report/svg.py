"""The drawing under every chart (:mod:`.charts`): the frame that maps data to pixels
and draws axes, ticks and grid, the frame over time with its shaded tail, the legend,
the ``<svg>`` element itself, and the escaping and tick labels they share."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

from .printable import for_terminal

W, H = 760, 280  # the drawing, in CSS pixels
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 36, 48  # margins: tick labels and axis titles
TEXT_WIDTH = 7  # CSS pixels a character of the charts' 11px sans-serif takes, at most


def esc(value: Any) -> str:
    """Text for HTML: markup escaped, and control and invisible bidi characters shown as
    ``\\u001b``-style escapes (a page's ``<title>`` and tables hold receivers' text)."""
    return html.escape(for_terminal(str(value)), quote=True)


def nice_ticks(lo: float, hi: float, count: int = 5, whole: bool = False) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5 or 5 times a power of ten; with
    ``whole``, whole numbers only: counts)."""
    if not math.isfinite(hi - lo) or hi <= lo:
        hi = lo + 1.0
    raw = max((hi - lo) / count, 1.0) if whole else (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw)
    ticks = [round(math.floor(lo / step) * step, 10)]
    while ticks[-1] < hi - step * 1e-9:  # the last tick is at or beyond hi
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def fmt(value: float) -> str:
    """A tick label: short, no trailing zeros, thousands as k."""
    if value == 0:
        return "0"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:.4g}"


class Frame:
    """Maps data to pixels for one chart and draws its axes and grid."""

    def __init__(
        self, x_range: tuple[float, float], y_range: tuple[float, float], log_x: bool = False
    ) -> None:
        self.log_x = log_x
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1.0
        if self.y1 <= self.y0:
            self.y1 = self.y0 + 1.0

    def x(self, value: float) -> float:
        if self.log_x:
            span = math.log10(self.x1) - math.log10(self.x0)
            share = (math.log10(max(value, self.x0)) - math.log10(self.x0)) / span
        else:
            share = (value - self.x0) / (self.x1 - self.x0)
        return LEFT + share * (W - LEFT - RIGHT)

    def y(self, value: float) -> float:
        share = (value - self.y0) / (self.y1 - self.y0)
        return H - BOTTOM - share * (H - TOP - BOTTOM)

    def axes(
        self,
        x_ticks: Sequence[tuple[float, str]],
        y_ticks: Sequence[float],
        x_title: str,
        y_title: str,
    ) -> list[str]:
        parts = []
        for t in y_ticks:
            y = self.y(t)
            parts.append(
                f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}"/>'
                f'<text class="ytick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                f"{fmt(t)}</text>"
            )
        for value, label in x_ticks:
            x = self.x(value)
            parts.append(
                f'<line class="grid" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}"/>'
                f'<text class="xtick" x="{x:.1f}" y="{H - BOTTOM + 15}" text-anchor="middle">'
                f"{esc(label)}</text>"
            )
        base = self.y(self.y0)
        parts.append(
            f'<line class="axis" x1="{LEFT}" y1="{base:.1f}" x2="{W - RIGHT}" y2="{base:.1f}"/>'
            f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}"/>'
            f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 10}" text-anchor="middle">'
            f"{esc(x_title)}</text>"
            f'<text transform="translate(14 {(TOP + H - BOTTOM) / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle">{esc(y_title)}</text>'
        )
        return parts


def timed_frame(
    x_hi: float,
    y_hi: float,
    x_title: str,
    y_title: str,
    shade_after: float | None,
    shade_label: str,
    whole: bool = False,
) -> tuple[Frame, list[str]]:
    """A frame over time from zero, its axes and grid (whole-number y ticks for counts),
    and the shaded region after ``shade_after`` (labelled when ``shade_label`` is given)."""
    y_ticks = nice_ticks(0.0, y_hi, whole=whole)
    x_ticks = nice_ticks(0.0, x_hi or 1.0, 8)
    frame = Frame((0.0, x_ticks[-1]), (0.0, y_ticks[-1]))
    body: list[str] = []
    if shade_after is not None and shade_after < x_hi:
        x = frame.x(shade_after)
        label = ""
        if shade_label:  # inside the shaded region if it fits, else ending at its right
            fits = x + 4 + TEXT_WIDTH * len(shade_label) <= W - RIGHT
            at = f'x="{x + 4:.1f}"' if fits else f'x="{W - RIGHT - 4}" text-anchor="end"'
            label = f'<text class="shade-label" {at} y="{H - BOTTOM - 6}">{esc(shade_label)}</text>'

        tip = esc(shade_label or "after the planned duration")
        body.append(
            f'<rect class="drain" x="{x:.1f}" y="{TOP}" width="{W - RIGHT - x:.1f}" '
            f'height="{H - TOP - BOTTOM}"><title>{tip}</title></rect>{label}'
        )
    body += frame.axes([(t, fmt(t)) for t in x_ticks], y_ticks, x_title, y_title)
    return frame, body


def svg(kind: str, title: str, points: int, body: Iterable[str], height: int = H) -> str:
    return (
        f'<svg class="chart" data-kind="{esc(kind)}" data-points="{points}" '
        f'width="{W}" height="{height}" viewBox="0 0 {W} {height}" role="img" '
        f"><title>{esc(title)}</title>" + "".join(body) + "</svg>"
    )


def legend(entries: Sequence[tuple[str, str]], dashed: Sequence[str] = ()) -> list[str]:
    """One row of keys above the chart; a key that would run past the right edge starts
    a second row."""
    parts, x, y = [], LEFT + 8, 12
    for name, colour in entries:
        width = 34 + TEXT_WIDTH * len(name)
        if x + width > W - RIGHT and x > LEFT + 8:
            x, y = LEFT + 8, y + 14
        style = ' stroke-dasharray="6 4"' if name in dashed else ""
        parts.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{colour}" '
            f'stroke-width="2.5"{style}/><text class="legend" x="{x + 22}" y="{y + 4}">'
            f"{esc(name)}</text>"
        )
        x += width
    return parts
