"""The charts of every HTML report, as inline SVG: axes with ticks and units, gridlines
and a zero; a target line where there is a target (sloped for a ramp); a region after
the planned duration shaded and labelled; a partial last interval drawn hollow. Every
chart is an ``<svg class="chart">`` with ``data-kind`` and ``data-points`` attributes
(what a test checks was drawn), and a ``<title>`` for screen readers. The page around
them is :mod:`atscale_mock.report.html`; the drawing under them, :mod:`.svg`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .svg import (
    BOTTOM,
    LEFT,
    RIGHT,
    TOP,
    Frame,
    W,
    esc,
    fmt,
    nice_ticks,
    svg,
    timed_frame,
)
from .svg import (
    legend as _legend,
)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf")
OUTCOME_COLOURS = {
    "2xx": "#2ca02c",
    "3xx": "#17becf",
    "4xx": "#ff7f0e",
    "5xx": "#d62728",
    "passed": "#2ca02c",
    "succeeded": "#2ca02c",
    "failed": "#d62728",
    "dropped": "#7f7f7f",
    "duplicate": "#9467bd",
}


@dataclass
class Line:
    """One series of a line chart; ``hollow`` marks points drawn as open circles (a
    partial interval) and not joined by the line."""

    name: str
    points: list[tuple[float, float]]
    colour: str = ""
    hollow: set[int] = field(default_factory=set)  # indexes into points


def empty(title: str, why: str) -> str:
    return f'<h3>{esc(title)}</h3><p class="note">{esc(why)}</p>'


def line_chart(
    title: str,
    lines: Sequence[Line],
    *,
    y_title: str,
    x_title: str = "time since start (s)",
    x_max: float | None = None,
    target: float | Sequence[tuple[float, float]] | None = None,
    target_label: str = "target",
    shade_after: float | None = None,
    shade_label: str = "after the planned duration",
    kind: str = "line",
    note: str = "",
) -> str:
    """Series over time from zero, with gridlines, a dashed target line (flat at a
    number, or through ``(time, value)`` points: a ramp), and a shaded region after
    ``shade_after`` (the drain after a load's planned duration)."""
    points = [p for line in lines for p in line.points]
    if not points:
        return empty(title, "no data: nothing was measured in this run")
    aim = [] if not target else _target_points(target, x_max or max(x for x, _ in points))
    x_hi = max([x for x, _ in points] + [x_max or 0.0])
    y_hi = max([y for _, y in points] + [y for _, y in aim]) * 1.02 or 1.0
    frame, body = timed_frame(x_hi, y_hi, x_title, y_title, shade_after, shade_label)
    legend: list[tuple[str, str]] = []
    for i, line in enumerate(lines):
        colour = line.colour or PALETTE[i % len(PALETTE)]
        legend.append((line.name, colour))
        solid = [p for k, p in enumerate(line.points) if k not in line.hollow]
        if solid:
            xy = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in solid)
            body.append(
                f'<polyline class="series" data-name="{esc(line.name)}" fill="none" '
                f'stroke="{colour}" stroke-width="1.8" points="{xy}"/>'
            )
        for k in sorted(line.hollow):
            x, y = line.points[k]
            body.append(
                f'<circle class="partial" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="4" '
                f'fill="#fff" stroke="{colour}" stroke-width="1.5"><title>{esc(line.name)}: '
                f"{fmt(y)} over a partial interval at {fmt(x)} s</title></circle>"
            )
    if aim:
        xy = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in aim)
        ends = (
            f"{fmt(aim[0][1])}"
            if aim[0][1] == aim[-1][1]
            else f"{fmt(aim[0][1])} to {fmt(aim[-1][1])}"
        )
        label_y = max(TOP + 12, frame.y(max(y for _, y in aim)) - 5)
        body.append(
            f'<polyline class="target" fill="none" points="{xy}"/>'
            f'<text class="target-label" x="{W - RIGHT - 4}" y="{label_y:.1f}" '
            f'text-anchor="end" fill="#d62728">{esc(target_label)} {ends}</text>'
        )
        legend.append((target_label, "#d62728"))
    body += _legend(legend, dashed=(target_label,) if target else ())
    caption = f'<p class="note">{esc(note)}</p>' if note else ""
    return f"<h3>{esc(title)}</h3>" + svg(kind, title, len(points), body) + caption


def _target_points(
    target: float | Sequence[tuple[float, float]], x_end: float
) -> list[tuple[float, float]]:
    if isinstance(target, int | float):
        return [(0.0, float(target)), (x_end, float(target))]
    return [(float(x), float(y)) for x, y in target]


def distribution_chart(
    title: str, series: dict[str, list[tuple[float, float]]], *, y_title: str = "ms"
) -> str:
    """HDR-style percentile distribution: the x axis is the percentile on a log scale of
    1 / (1 - p) (so 90, 99, 99.9, 99.99 are evenly spaced), the y axis the value.
    ``series``: name -> [(percentile 0..100, value)]."""
    usable = {name: [(p, v) for p, v in pts if p < 100.0] for name, pts in series.items() if pts}
    points = [p for pts in usable.values() for p in pts]
    if not points:
        return empty(title, "no data: nothing was measured in this run")
    top = max(p for p, _ in points)
    x_hi = max(10.0, 1.0 / (1.0 - top / 100.0))
    decades = [10.0**k for k in range(0, math.ceil(math.log10(x_hi)) + 1)]
    frame = Frame((1.0, decades[-1]), (0.0, 1.0), log_x=True)
    y_ticks = nice_ticks(0.0, max(v for _, v in points) * 1.08 or 1.0)
    frame.y1 = y_ticks[-1]
    labels = [(d, "0" if d == 1 else _percent_label(100.0 * (1 - 1 / d))) for d in decades]
    body = frame.axes(labels, y_ticks, "percentile (log scale of 1 / (1 - p))", y_title)
    legend = []
    for i, (name, pts) in enumerate(usable.items()):
        colour = PALETTE[i % len(PALETTE)]
        legend.append((name, colour))
        xy = " ".join(f"{frame.x(1.0 / (1.0 - p / 100.0)):.1f},{frame.y(v):.1f}" for p, v in pts)
        body.append(
            f'<polyline class="series" data-name="{esc(name)}" fill="none" stroke="{colour}" '
            f'stroke-width="1.8" points="{xy}"/>'
        )
    body += _legend(legend)
    return f"<h3>{esc(title)}</h3>" + svg("distribution", title, len(points), body)


def _percent_label(p: float) -> str:
    return f"{p:.10g}%"


def stacked_bars(
    title: str,
    rows: Sequence[tuple[float, float, dict[str, int]]],
    *,
    y_title: str = "responses per interval",
    shade_after: float | None = None,
) -> str:
    """Counts by category over time, one stacked bar per interval: ``rows`` are
    (start, width, {category: count}). Colours by status class, then the palette."""
    categories = sorted({c for _, _, counts in rows for c in counts}, key=_category_order)
    if not categories:
        return empty(title, "no data: nothing completed in this run")
    x_hi = max(t + w for t, w, _ in rows)
    y_hi = max(sum(c.values()) for _, _, c in rows) * 1.02 or 1.0
    frame, body = timed_frame(
        x_hi, y_hi, "time since start (s)", y_title, shade_after, "", whole=True
    )
    colours = {c: _category_colour(c, i) for i, c in enumerate(categories)}
    bars = 0
    for t, width, counts in rows:
        below = 0.0
        for c in categories:
            n = counts.get(c, 0)
            if not n:
                continue
            x0, x1 = frame.x(t), frame.x(t + width)
            y_top, y_bottom = frame.y(below + n), frame.y(below)
            body.append(
                f'<rect class="bar" x="{x0 + 0.5:.1f}" y="{y_top:.1f}" '
                f'width="{max(1.0, x1 - x0 - 1):.1f}" height="{y_bottom - y_top:.1f}" '
                f'fill="{colours[c]}"><title>{esc(c)}: {n} at {fmt(t)} s</title></rect>'
            )
            below += n
            bars += 1
    body += _legend([(c, colours[c]) for c in categories])
    return f"<h3>{esc(title)}</h3>" + svg("bars", title, bars, body)


def _category_order(c: str) -> tuple[int, str]:
    return (0, c) if c[:1].isdigit() else (1, c)


def _category_colour(c: str, i: int) -> str:
    if c[:1].isdigit():
        return OUTCOME_COLOURS.get(c[0] + "xx", PALETTE[i % len(PALETTE)])
    return OUTCOME_COLOURS.get(c, PALETTE[(i + 3) % len(PALETTE)])


def lanes_chart(
    title: str,
    lanes: Sequence[str],
    dots: Sequence[tuple[float, int, str, str]],
    *,
    x_title: str = "time since start (s)",
) -> str:
    """A timeline: one lane per name, a dot per event at (seconds, lane), coloured by
    its outcome (a key of OUTCOME_COLOURS), with a tooltip."""
    if not dots:
        return empty(title, "no data: nothing was sent in this run")
    height = TOP + BOTTOM + 26 * max(1, len(lanes))
    x_hi = max(t for t, _, _, _ in dots)
    x_ticks = nice_ticks(0.0, x_hi or 1.0, 8)
    left = max(LEFT, 12 + 7 * max(len(n) for n in lanes))
    span = W - left - RIGHT

    def x(t: float) -> float:
        return left + t / x_ticks[-1] * span

    body = []
    for t in x_ticks:
        body.append(
            f'<line class="grid" x1="{x(t):.1f}" y1="{TOP}" x2="{x(t):.1f}" '
            f'y2="{height - BOTTOM}"/><text class="xtick" x="{x(t):.1f}" '
            f'y="{height - BOTTOM + 15}" text-anchor="middle">{fmt(t)}</text>'
        )
    for i, name in enumerate(lanes):
        y = TOP + 13 + 26 * i
        body.append(
            f'<line class="grid" x1="{left}" y1="{y}" x2="{W - RIGHT}" y2="{y}"/>'
            f'<text class="ytick" x="{left - 6}" y="{y + 4}" text-anchor="end">{esc(name)}</text>'
        )
    body.append(
        f'<line class="axis" x1="{left}" y1="{height - BOTTOM}" x2="{W - RIGHT}" '
        f'y2="{height - BOTTOM}"/><text x="{(left + W - RIGHT) / 2:.0f}" y="{height - 10}" '
        f'text-anchor="middle">{esc(x_title)}</text>'
    )
    for t, lane, outcome, tip in dots:
        colour = OUTCOME_COLOURS.get(outcome, "#333")
        body.append(
            f'<circle class="dot {esc(outcome)}" cx="{x(t):.1f}" cy="{TOP + 13 + 26 * lane}" '
            f'r="4" fill="{colour}" fill-opacity="0.8"><title>{esc(tip)}</title></circle>'
        )
    legend_used = sorted({o for _, _, o, _ in dots})
    body += _legend([(o, OUTCOME_COLOURS.get(o, "#333")) for o in legend_used])
    return f"<h3>{esc(title)}</h3>" + svg("lanes", title, len(dots), body, height)


def scatter_chart(
    title: str,
    dots: Sequence[tuple[float, float, str, str]],
    *,
    y_title: str,
    x_title: str = "time since start (s)",
) -> str:
    """Points (x, y, outcome, tooltip), coloured by outcome (OUTCOME_COLOURS)."""
    if not dots:
        return empty(title, "no data: nothing was sent in this run")
    x_hi = max(x for x, _, _, _ in dots)
    y_hi = max(y for _, y, _, _ in dots) * 1.02 or 1.0
    frame, body = timed_frame(x_hi, y_hi, x_title, y_title, None, "")
    for x, y, outcome, tip in dots:
        body.append(
            f'<circle class="dot {esc(outcome)}" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" '
            f'r="3.5" fill="{OUTCOME_COLOURS.get(outcome, "#333")}" fill-opacity="0.75">'
            f"<title>{esc(tip)}</title></circle>"
        )
    used = sorted({o for _, _, o, _ in dots})
    body += _legend([(o, OUTCOME_COLOURS.get(o, "#333")) for o in used])
    return f"<h3>{esc(title)}</h3>" + svg("scatter", title, len(dots), body)
