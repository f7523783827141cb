"""The summary of a load run, as data (``--report FILE.json``, ``--json``) and as one
self-contained HTML file with inline SVG charts (``--report FILE.html``)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..redact import Redactor
from .runner import LoadConfig, LoadResult
from .stats import percentiles_ms


def behind(
    closed_loop: bool, late: int, not_sent: int, pool_exhausted: int, connections: int
) -> str | None:
    """Why an open-loop run fell behind its schedule, if it did: the receiver held every
    connection, or this machine could not send on time."""
    if closed_loop or not (late or not_sent):
        return None
    head = f"behind schedule ({late} late, {not_sent} not sent): "
    if pool_exhausted:
        return head + (
            f"due requests found all {connections} connections busy, so the receiver "
            "answered too slowly for this rate; give it more at once with --connections, "
            "or lower --rate"
        )
    return head + (
        "connections were free, so this machine could not send on time; "
        "try --processes auto, or lower --rate"
    )


@dataclass(frozen=True, slots=True)
class Measured:
    """What an engine measured, in the shape every load summary is built from."""

    mode: str  # closed-loop | open-loop | locust
    elapsed: float
    interrupted: bool
    sent: int
    completed: int
    ok: int
    latency: dict[str, float]  # ms by percentile
    service: dict[str, float]
    lag: dict[str, float]
    rate: float
    not_sent: int = 0
    late: int = 0
    pool_exhausted: int = 0
    connections_opened: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    series: list[dict[str, Any]] = field(default_factory=list)


def document(config: LoadConfig, seed: int, m: Measured, connections: int) -> dict[str, Any]:
    """The summary of a load run (``--json``, the reports, thresholds), whichever engine
    measured it: one place builds every key."""
    error_rate = (m.completed - m.ok) / m.completed if m.completed else 0.0
    metrics = {
        **m.latency,
        **{f"service_{k}": v for k, v in m.service.items()},
        "error_rate": error_rate,
        "rate": m.rate,
        "not_sent": float(m.not_sent),
        "late": float(m.late),
    }
    return {
        "url": config.url,
        "seed": seed,
        "mode": m.mode,
        "target_rate": config.target_rate,
        "duration_s": config.duration,
        "elapsed_s": round(m.elapsed, 3),
        "connections": connections,
        "processes": config.processes,
        "spin": config.spinning,  # busy-waiting before sends (opt-in: --spin)
        "connections_opened": m.connections_opened,
        "mix": config.mix,
        "interrupted": m.interrupted,
        "sent": m.sent,
        "completed": m.completed,
        "ok": m.ok,
        "not_sent": m.not_sent,
        "late": m.late,
        "pool_exhausted": m.pool_exhausted,
        "behind": behind(
            config.closed_loop, m.late, m.not_sent, m.pool_exhausted, config.connections
        )
        if m.mode != "locust"
        else None,
        "error_rate": round(error_rate, 6),
        "rate": round(m.rate, 1),
        "statuses": dict(m.statuses),
        "errors": dict(m.errors),
        "faults": dict(m.faults),
        "latency_ms": m.latency,
        "service_ms": m.service,
        "dispatch_lag_ms": m.lag,
        "metrics": metrics,
        "series": m.series,
    }


def summarize(result: LoadResult, seed: int) -> dict[str, Any]:
    t, c = result.totals, result.config
    # achieved rate: what completed within the planned duration, not during the drain after it
    # (an interrupted run: over the time it ran, not the duration it planned)
    window = min(c.duration, result.elapsed) if result.interrupted else c.duration
    in_window = sum(r["completed"] for r in t.series() if r["t"] < window)
    measured = Measured(
        mode="closed-loop" if c.closed_loop else "open-loop",
        elapsed=result.elapsed,
        interrupted=result.interrupted,
        sent=t.sent,
        completed=t.completed,
        ok=t.ok,
        latency=percentiles_ms(t.hists["latency"]),
        service=percentiles_ms(t.hists["service"]),
        lag=percentiles_ms(t.hists["lag"]),
        rate=in_window / window if window else 0.0,
        not_sent=result.not_sent,
        late=t.late,
        pool_exhausted=result.pool_exhausted,
        connections_opened=sum(w.connections_opened for w in result.workers),
        statuses=dict(t.statuses),
        errors=dict(t.errors),
        faults=dict(t.faults),
        series=t.series(),
    )
    return document(c, seed, measured, c.connections)


def report_format(path: Path) -> str:
    """``json`` or ``html`` from the file name; a UsageError for anything else."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".html", ".htm"):
        return "html"
    raise UsageError(f"--report {path}: use a .json or .html file name")


def write_report(path: Path, summary: dict[str, Any], redactor: Redactor) -> None:
    clean = redactor.data(summary)  # value by value, before any encoding
    if report_format(path) == "json":
        text = json.dumps(clean, indent=2) + "\n"
    else:
        text = render_html(clean)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


def _chart(title: str, series: dict[str, list[tuple[float, float]]], unit: str) -> str:
    """An inline SVG line chart: no script, no external file."""
    w, h, pad = 720, 240, 48
    points = [p for line in series.values() for p in line]
    if not points:
        return f"<h3>{html.escape(title)}</h3><p>no data</p>"
    xmax = max(x for x, _ in points) or 1.0
    ymax = max(y for _, y in points) or 1.0
    colours = ["#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd"]
    parts = [
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="#888"/>',
        f'<line x1="{pad}" y1="10" x2="{pad}" y2="{h - pad}" stroke="#888"/>',
        f'<text x="4" y="16" font-size="11">{ymax:.4g} {unit}</text>',
        f'<text x="{w - 80}" y="{h - pad + 16}" font-size="11">{xmax:.0f} s</text>',
    ]
    for i, (name, line) in enumerate(series.items()):
        xy = " ".join(
            f"{pad + x / xmax * (w - pad - 10):.1f},{h - pad - y / ymax * (h - pad - 10):.1f}"
            for x, y in line
        )
        colour = colours[i % len(colours)]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{xy}"/>')
        parts.append(
            f'<text x="{pad + 10 + i * 90}" y="{h - 8}" font-size="12" '
            f'fill="{colour}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts)


def _table(rows: list[tuple[Any, ...]], head: tuple[str, ...]) -> str:
    cells = "".join(f"<th>{html.escape(str(c))}</th>" for c in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{cells}</tr>{body}</table>"


def render_html(s: dict[str, Any]) -> str:
    series = s["series"]
    lat = {q: [(r["t"], r["latency_ms"][q]) for r in series] for q in ("p50", "p90", "p99")}
    thr = {
        "completed/s": [(r["t"], r["rate"]) for r in series],
        "errors/s": [(r["t"], r["completed"] - r["ok"]) for r in series],
    }
    overview = [
        ("mode", s["mode"]),
        ("target rate", s["target_rate"] or "max"),
        ("achieved rate", f"{s['rate']} req/s"),
        ("sent", s["sent"]),
        ("completed", s["completed"]),
        ("ok (2xx)", s["ok"]),
        ("not sent", s["not_sent"]),
        ("late (>10 ms lag)", s["late"]),
        ("error rate", f"{s['error_rate']:.4%}"),
        ("connections", s["connections"]),
        ("processes", s["processes"]),
        ("seed", s["seed"]),
        ("interrupted", s["interrupted"]),
        *((("behind schedule", s["behind"]),) if s.get("behind") else ()),
    ]
    percentiles = [
        (name, *(f"{s[key][q]:.3f}" for q in ("p50", "p90", "p99", "p99.9", "max")))
        for name, key in (
            ("latency (from intended time)", "latency_ms"),
            ("service time", "service_ms"),
            ("dispatch lag", "dispatch_lag_ms"),
        )
    ]
    outcomes = sorted(s["statuses"].items()) + sorted(s["errors"].items())
    checks = [
        (
            t["threshold"],
            "pass" if t["passed"] else "FAIL",
            f"{t['actual']:.4g}",
            f"{t['limit']:.4g}",
        )
        for t in s.get("thresholds", [])
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>atscale-mock load report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;
text-align:left}}</style></head><body>
<h1>atscale-mock load report</h1>
<p>{html.escape(s["url"])}, {s["duration_s"]} s</p>
{_table(overview, ("", ""))}
<h2>Latency (ms)</h2>
{_table(percentiles, ("", "p50", "p90", "p99", "p99.9", "max"))}
{_chart("Latency percentiles over time", lat, "ms")}
{_chart("Throughput over time", thr, "req/s")}
<h2>Outcomes</h2>
{_table(outcomes, ("status or error", "count"))}
<h2>Thresholds</h2>
{_table(checks, ("threshold", "result", "actual", "limit")) if checks else "<p>none</p>"}
</body></html>
"""
