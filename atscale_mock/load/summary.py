"""The summary of a load run as data: what ``--json`` prints, ``--report FILE.json``
writes, thresholds judge and the HTML report draws. One function (``document``) builds
every key, whichever generator measured the run; the records below say what each holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from .config import LoadConfig
from .runner import LoadResult as EngineResult
from .stats import distribution_ms, percentiles_ms
from .thresholds import ThresholdResult

# keys a record may lack are in a ``total=False`` subclass (not ``NotRequired``, which
# Python 3.11 does not see at run time under ``from __future__ import annotations``)


class _Row(TypedDict):
    t: float  # seconds from the start
    sent: int
    completed: int
    ok: int
    late: int
    rate: float  # completed per second, over the time the row covers
    statuses: dict[str, int]
    errors: dict[str, int]
    latency_ms: dict[str, float]  # p50, p90, p95, p99, p99.9, max
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


class _Measured(TypedDict):
    url: str  # redacted
    seed: int
    mode: str  # closed-loop | open-loop | locust
    target_rate: float | None  # the mean intended rate; None in a closed loop
    duration_s: float
    elapsed_s: float
    connections: int
    processes: int
    spin: bool
    connections_opened: int
    mix: dict[str, float]
    interrupted: bool
    sent: int
    completed: int
    ok: int
    not_sent: int
    late: int
    pool_exhausted: int
    behind: str | None
    error_rate: float
    rate: float
    statuses: dict[str, int]
    errors: dict[str, int]
    faults: dict[str, int]
    events: list[EventCount]
    latency_ms: dict[str, float]
    service_ms: dict[str, float]
    dispatch_lag_ms: dict[str, float] | None  # None: not measured (Locust)
    distribution_ms: dict[str, list[list[float]]]
    metrics: dict[str, float]
    interval_s: float
    series: list[SeriesRow]


class LoadSummary(_Measured, total=False):
    """A load run's summary. Times are in ms where a key says ``_ms``; ``metrics`` holds
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


@dataclass(frozen=True, slots=True)
class Measured:
    """What a load generator measured, in the shape every load summary is built from."""

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
    series: list[SeriesRow] = field(default_factory=list)
    # name -> [[percentile, ms], ...], HDR style (stats.distribution_ms)
    distribution: dict[str, list[list[float]]] = field(default_factory=dict)
    interval: float = 1.0  # seconds per row of the series


def document(config: LoadConfig, seed: int, m: Measured, connections: int) -> LoadSummary:
    """The summary of a load run (``--json``, the reports, thresholds), whichever generator
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
