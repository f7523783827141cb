"""The summary of a load run, as data (``--report FILE.json``, ``--json``) and as one
self-contained HTML file with inline SVG charts (``--report FILE.html``)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..redact import Redactor
from ..report.files import report_format, write_text
from .runner import LoadConfig, LoadResult
from .stats import distribution_ms, percentiles_ms


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
    lag: dict[str, float] | None  # None: not measured (Locust)
    rate: float
    not_sent: int = 0
    late: int = 0
    pool_exhausted: int = 0
    connections_opened: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)  # requests written, by event
    series: list[dict[str, Any]] = field(default_factory=list)
    # name -> [[percentile, ms], ...], HDR style (stats.distribution_ms)
    distribution: dict[str, list[list[float]]] = field(default_factory=dict)
    interval: float = 1.0  # seconds per row of the series


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
        "events": by_event(m.events, config.mix),
        "latency_ms": m.latency,
        "service_ms": m.service,
        "dispatch_lag_ms": m.lag,
        "distribution_ms": m.distribution,
        "metrics": metrics,
        "interval_s": m.interval,
        "series": m.series,
    }


def by_event(counts: dict[str, int], mix: dict[str, float]) -> list[dict[str, Any]]:
    """Requests written per event of the mix, with each one's share of them and the
    share its weight asked for (the mix as it came out against the mix as given)."""
    weight = sum(w for w in mix.values() if w > 0) or 1.0
    written = sum(counts.values())
    names = [n for n, w in mix.items() if w > 0] + sorted(set(counts) - set(mix))
    return [
        {
            "event": name,
            "requests": counts.get(name, 0),
            "share": round(counts.get(name, 0) / written, 6) if written else 0.0,
            "mix_share": round(max(0.0, mix.get(name, 0.0)) / weight, 6),
        }
        for name in names
    ]


def summarize(result: LoadResult, seed: int) -> dict[str, Any]:
    t, c = result.totals, result.config
    # achieved rate: what completed within the planned duration, not during the drain after it
    # (an interrupted run: over the time it ran, not the duration it planned)
    window = min(c.duration, result.elapsed) if result.interrupted else c.duration
    series = honest_series(t.series(), t.interval, result.elapsed)
    in_window = sum(r["completed"] for r in series if r["t"] < window)
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
        events=result.events,
        series=series,
        distribution={
            name: distribution_ms(t.hists[name])
            for name in (("latency",) if c.closed_loop else ("latency", "service", "lag"))
        },
        interval=t.interval,
    )
    return document(c, seed, measured, c.connections)


def honest_series(
    rows: list[dict[str, Any]], interval: float, elapsed: float
) -> list[dict[str, Any]]:
    """Each row with the seconds it covers (``span_s``): the last one of a run that
    ended mid-interval covers less, so its rate is over what it covered and it is
    marked ``partial`` (a report draws it hollow, not as a drop to near zero)."""
    out = []
    for r in rows:
        span = min(interval, max(0.0, elapsed - r["t"]))
        partial = 0 < span < interval * 0.999
        out.append(
            {
                **r,
                "span_s": round(span or interval, 3),
                "partial": partial,
                "rate": round(r["completed"] / span, 1) if partial else r["rate"],
            }
        )
    return out


def write_report(path: Path, summary: dict[str, Any], redactor: Redactor) -> None:
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
