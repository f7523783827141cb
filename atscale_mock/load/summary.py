"""The summary of a load run as data: what ``--json`` prints, ``--report FILE.json``
writes, thresholds judge and the HTML report draws. One function (``document``) builds
every key, whichever generator measured the run; the records below say what each holds."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from .config import LoadConfig
from .runner import LoadResult as EngineResult
from .stats import distribution_ms, percentiles_ms
from .thresholds import ThresholdResult

# keys a record may lack are in a ``total=False`` subclass (not ``NotRequired``, which
# Python 3.11 does not see at run time under ``from __future__ import annotations``)


class Counts(TypedDict):
    """What was sent and answered over a span of the run: one row of the series, or the
    whole run (:class:`Measured`)."""

    sent: int
    completed: int
    ok: int
    late: int
    rate: float  # completed per second, over the span
    statuses: dict[str, int]
    errors: dict[str, int]
    latency_ms: dict[str, float]  # p50, p90, p95, p99, p99.9, max


class _Row(Counts):
    t: float  # seconds from the start
    span_s: float  # seconds the row covers
    partial: bool  # it covers less than an interval (the run ended inside it)


class SeriesRow(_Row, total=False):
    """One interval of the run (``interval_s`` long; the last may cover less)."""

    lag_ms: dict[str, float]  # dispatch lag: the built-in generator only


class EventCount(TypedDict):
    """Requests written of one event, its share of them, and the share ``mix`` asked."""

    event: str
    requests: int
    share: float
    mix_share: float


class PhaseFigures(TypedDict):
    duration_s: float
    rate: float
    ramp_to: float | None


class Measured(Counts):
    """What a load generator measured (the built-in one or Locust), under the keys the
    summary gives it: :func:`document` adds what the run was asked to do and what
    follows from the two."""

    mode: str  # closed-loop | open-loop | locust
    elapsed_s: float
    interrupted: bool
    not_sent: int
    pool_exhausted: int  # dispatch rounds in which due requests found no free connection
    connections_opened: int
    faults: dict[str, int]
    service_ms: dict[str, float]
    dispatch_lag_ms: dict[str, float] | None  # None: not measured (Locust)
    # name -> [[percentile, ms], ...], HDR style (stats.distribution_ms)
    distribution_ms: dict[str, list[list[float]]]
    interval_s: float  # seconds per row of the series
    series: list[SeriesRow]


class _Summary(Measured):
    url: str  # redacted
    seed: int
    target_rate: float | None  # the mean intended rate; None in a closed loop
    duration_s: float
    connections: int
    processes: int
    spin: bool
    mix: dict[str, float]
    behind: str | None
    error_rate: float
    events: list[EventCount]
    metrics: dict[str, float]


class LoadSummary(_Summary, total=False):
    """A load run's summary: what was :class:`Measured`, and what the run was given.
    Times are in ms where a key says ``_ms``; ``metrics`` holds
    the figures thresholds name. ``started_at``, ``phases`` and ``thresholds`` are set
    by :func:`atscale_mock.load` (so every summary it returns has them), ``command`` by
    the CLI."""

    started_at: str
    phases: list[PhaseFigures]
    thresholds: list[ThresholdResult]
    command: str


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


def document(
    config: LoadConfig, seed: int, m: Measured, connections: int, written: dict[str, int]
) -> LoadSummary:
    """The summary of a load run (``--json``, the reports, thresholds), whichever generator
    measured it: what was measured (``m``, as it is) with what the run was given;
    ``written``: requests written, by event."""
    error_rate = (m["completed"] - m["ok"]) / m["completed"] if m["completed"] else 0.0
    metrics = {
        **m["latency_ms"],
        **{f"service_{k}": v for k, v in m["service_ms"].items()},
        "error_rate": error_rate,
        "rate": m["rate"],
        "not_sent": float(m["not_sent"]),
        "late": float(m["late"]),
    }
    summary: _Summary = {
        "url": config.url,
        "seed": seed,
        "target_rate": config.target_rate,
        "duration_s": config.duration,
        "connections": connections,
        "processes": config.processes,
        "spin": config.spinning,  # busy-waiting before sends (opt-in: --spin)
        "mix": config.mix,
        **m,
        "rate": round(m["rate"], 1),
        "elapsed_s": round(m["elapsed_s"], 3),
        "behind": behind(
            config.closed_loop, m["late"], m["not_sent"], m["pool_exhausted"], config.connections
        )
        if m["mode"] != "locust"
        else None,
        "error_rate": round(error_rate, 6),
        "events": by_event(written, config.mix),
        "metrics": metrics,
    }
    return cast(LoadSummary, summary)  # the keys it may lack are set later (LoadSummary)


def by_event(counts: dict[str, int], mix: dict[str, float]) -> list[EventCount]:
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


def summarize(result: EngineResult, seed: int) -> LoadSummary:
    t, c = result.totals, result.config
    # achieved rate: what completed within the planned duration, not during the drain after it
    # (an interrupted run: over the time it ran, not the duration it planned)
    window = min(c.duration, result.elapsed) if result.interrupted else c.duration
    series = honest_series(t.series(), t.interval, result.elapsed)
    in_window = sum(r["completed"] for r in series if r["t"] < window)
    measured: Measured = {
        "mode": "closed-loop" if c.closed_loop else "open-loop",
        "elapsed_s": result.elapsed,
        "interrupted": result.interrupted,
        "sent": t.sent,
        "completed": t.completed,
        "ok": t.ok,
        "late": t.late,
        "rate": in_window / window if window else 0.0,
        "not_sent": result.not_sent,
        "pool_exhausted": result.pool_exhausted,
        "connections_opened": sum(w.connections_opened for w in result.workers),
        "statuses": dict(t.statuses),
        "errors": dict(t.errors),
        "faults": dict(t.faults),
        "latency_ms": percentiles_ms(t.hists["latency"]),
        "service_ms": percentiles_ms(t.hists["service"]),
        "dispatch_lag_ms": percentiles_ms(t.hists["lag"]),
        "distribution_ms": {
            name: distribution_ms(t.hists[name])
            for name in (("latency",) if c.closed_loop else ("latency", "service", "lag"))
        },
        "interval_s": t.interval,
        "series": series,
    }
    return document(c, seed, measured, c.connections, result.events)


def honest_series(rows: list[dict[str, Any]], interval: float, elapsed: float) -> list[SeriesRow]:
    """Each row with the seconds it covers (``span_s``): the last one of a run that
    ended mid-interval covers less, so its rate is over what it covered and it is
    marked ``partial`` (a report draws it hollow, not as a drop to near zero)."""
    out = []
    for r in rows:
        span = min(interval, max(0.0, elapsed - r["t"]))
        partial = 0 < span < interval * 0.999
        row = {
            **r,
            "span_s": round(span or interval, 3),
            "partial": partial,
            "rate": round(r["completed"] / span, 1) if partial else r["rate"],
        }
        out.append(cast(SeriesRow, row))  # the interval's counters (stats.Totals.series)
    return out
