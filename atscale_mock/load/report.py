"""A load run's summary as a file: JSON (``--report FILE.json``) or one self-contained
HTML page with inline SVG charts (``--report FILE.html``)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..redact import Redactor
from ..report.files import report_format, write_text
from .summary import LoadSummary


def write_report(path: Path, summary: LoadSummary, redactor: Redactor) -> None:
    clean = redactor.data(summary)  # value by value, before any encoding
    if report_format(path) == "json":
        text = json.dumps(clean, indent=2) + "\n"
    else:
        text = render_html(clean)
    write_text(path, text)


def render_html(s: dict[str, Any]) -> str:
    """The load report: one page, inline SVG (see :mod:`atscale_mock.report.html`)."""
    from ..report import html as h

    series = s["series"]
    locust = s["mode"] == "locust"
    closed = s["mode"] == "closed-loop"
    duration = float(s["duration_s"])
    passed = all(t["passed"] for t in s.get("thresholds", [])) and not s["interrupted"]
    checks = [
        (t["threshold"], h.verdict(t["passed"]), f"{t['actual']:.4g}", f"{t['limit']:.4g}")
        for t in s.get("thresholds", [])
    ]
    partial = [k for k, r in enumerate(series) if r.get("partial")]
    # a row stands for the interval it covers: drawn at its middle
    timed = [(r["t"] + (r.get("span_s") or s.get("interval_s", 1.0)) / 2, r) for r in series]
    x_max = max([duration] + [r["t"] + (r.get("span_s") or 1.0) for r in series])
    after = "after the planned duration: answers still in flight"
    # every chart over time: the same axis, the time after the planned duration shaded
    over_time = functools.partial(
        h.line_chart, x_max=x_max, shade_after=duration, shade_label=after
    )
    target = s["target_rate"] or None
    aim = target_points(s.get("phases") or []) or target
    throughput = over_time(
        "Throughput",
        [
            h.Line("completed/s", [(m, r["rate"]) for m, r in timed], hollow=set(partial)),
            h.Line(
                "failed/s",
                [(m, (r["completed"] - r["ok"]) / (r.get("span_s") or 1.0)) for m, r in timed],
                colour="#d62728",
                hollow=set(partial),
            ),
        ],
        y_title="requests per second",
        target=aim,
        target_label="target rate",
        kind="throughput",
        note=_partial_note(series, partial),
    )
    latency = over_time(
        "Latency over time" + (" (Locust: from the actual send)" if locust else ""),
        [
            h.Line(q, [(m, r["latency_ms"][q]) for m, r in timed], hollow=set(partial))
            for q in ("p50", "p90", "p99")
        ],
        y_title="latency (ms)",
        kind="latency",
    )
    if locust:
        lag = h.empty("Dispatch lag over time", "not measured: Locust does not report it")
    elif closed:
        lag = h.empty(
            "Dispatch lag over time",
            "none in a closed loop: each connection sends as soon as its last answer came",
        )
    else:
        lag = over_time(
            "Dispatch lag over time (actual send time - intended send time)",
            [
                h.Line(q, [(m, r.get("lag_ms", {}).get(q, 0.0)) for m, r in timed])
                for q in ("p50", "p99", "max")
            ],
            y_title="dispatch lag (ms)",
            kind="lag",
        )
    names = {"latency": "latency", "service": "service time", "lag": "dispatch lag"}
    distribution = h.distribution_chart(
        "Latency distribution",
        {
            names.get(k, k): [(p, v) for p, v in pts]
            for k, pts in s.get("distribution_ms", {}).items()
        },
    )
    outcomes_over_time = h.stacked_bars(
        "Responses over time, by status or error",
        [(r["t"], r.get("span_s") or s.get("interval_s", 1.0), _outcomes(r)) for r in series],
        shade_after=duration,
    )
    overview = [
        ("result", h.verdict(passed)),
        *((("started", s["started_at"]),) if s.get("started_at") else ()),
        *((("command", s["command"]),) if s.get("command") else ()),
        ("mode", s["mode"]),
        ("target rate", _target_text(s.get("phases") or [], target)),
        ("achieved rate", f"{s['rate']} req/s"),
        ("sent", s["sent"]),
        ("completed", s["completed"]),
        ("ok (2xx)", s["ok"]),
        ("not sent", s["not_sent"]),
        ("late (> 10 ms lag)", "not measured" if locust else s["late"]),
        ("error rate", f"{s['error_rate']:.4%}"),
        ("connections", s["connections"]),
        ("processes", s["processes"]),
        ("seed", s["seed"]),
        ("interrupted", s["interrupted"]),
        *((("behind schedule", s["behind"]),) if s.get("behind") else ()),
    ]
    rows = [("latency (from intended time)", "latency_ms"), ("service time", "service_ms")]
    if locust:  # Locust times from the actual send: one figure, not two
        rows = [("latency (from the actual send)", "latency_ms")]
    else:
        rows.append(("dispatch lag", "dispatch_lag_ms"))
    percentiles = [
        (name, *(f"{s[key][q]:.3f}" if q in s[key] else "" for q in QUANTILES))
        for name, key in rows
        if s.get(key)
    ]
    outcomes = sorted(s["statuses"].items()) + sorted(s["errors"].items())
    events = [
        (e["event"], e["requests"], f"{e['share']:.1%}", f"{e['mix_share']:.1%}")
        for e in s.get("events", [])
    ]
    return h.page(
        "atscale-mock load report",
        f"{s['url']}, {s['duration_s']} s planned, {s['elapsed_s']} s elapsed"
        + (f", started {s['started_at']}" if s.get("started_at") else ""),
        [
            h.table(overview, ("", "")),
            "<h2>Thresholds</h2>",
            h.table(checks, ("threshold", "result", "actual", "limit"))
            if checks
            else '<p class="note">none set (--threshold)</p>',
            "<h2>Throughput and outcomes</h2>",
            throughput,
            outcomes_over_time,
            h.table(outcomes, ("status or error", "count"), numeric=(1,))
            if outcomes
            else '<p class="note">no responses</p>',
            "<h2>By event</h2>",
            h.table(events, ("event", "requests", "share", "asked (--mix)"), numeric=(1, 2, 3))
            if events
            else '<p class="note">no requests written</p>',
            '<p class="note">Requests written to a connection, by event; latency and '
            "outcomes above are over every event.</p>",
            "<h2>Latency (ms)</h2>",
            h.table(percentiles, ("", *QUANTILES), tuple(range(1, len(QUANTILES) + 1))),
            latency,
            distribution,
            "<h2>Dispatch lag</h2>",
            lag,
        ],
    )


QUANTILES = ("p50", "p90", "p95", "p99", "p99.9", "max")


def target_points(phases: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """The intended rate over time, as the corners of its line: each phase from its
    start rate to its end rate (a ramp slopes, a steady phase is flat)."""
    points: list[tuple[float, float]] = []
    t = 0.0
    for p in phases:
        end = p["rate"] if p.get("ramp_to") is None else p["ramp_to"]
        points += [(t, float(p["rate"])), (t + p["duration_s"], float(end))]
        t += p["duration_s"]
    return points


def _target_text(phases: list[dict[str, Any]], mean: float | None) -> str:
    if not mean:
        return "none (as fast as answers come)"
    ramps = [p for p in phases if p.get("ramp_to") is not None]
    if len(phases) == 1 and ramps:
        return f"{ramps[0]['rate']:g} to {ramps[0]['ramp_to']:g} req/s (mean {mean:g})"
    if len(phases) > 1:
        return f"{len(phases)} phases, mean {mean:g} req/s"
    return f"{mean:g} req/s"


def _outcomes(row: dict[str, Any]) -> dict[str, int]:
    """A row's responses by status and error; where statuses are not known per
    interval (Locust's history has only counts), the successes as ``succeeded``."""
    counts = {**row["statuses"], **row["errors"]}
    if not row["statuses"] and row["ok"]:
        counts["succeeded"] = row["ok"]
    return counts


def _partial_note(series: list[dict[str, Any]], partial: list[int]) -> str:
    if not partial:
        return ""
    spans = ", ".join(f"from {series[k]['t']:g} s, {series[k]['span_s']:g} s long" for k in partial)
    return (
        f"Hollow points: intervals the run covered only in part ({spans}); "
        "their rate is over the time covered."
    )
