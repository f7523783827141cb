"""Load statistics: latencies go into HDR histograms (3 significant digits, 1 µs to
1 hour), one per interval and one for the whole run; memory stays flat however long
the run. Raw values are buffered per interval and folded in with a Counter, which costs
far less per request than recording each value."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST, HIGHEST, DIGITS = 1, 3_600_000_000, 3  # microseconds
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


HISTOGRAMS = ("latency", "service", "lag")


def new_histograms() -> dict[str, HdrHistogram]:
    return {name: new_histogram() for name in HISTOGRAMS}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST, HIGHEST, DIGITS)


def fold(histogram: HdrHistogram, seconds: list[float]) -> None:
    """Record durations in seconds, as whole microseconds (each distinct value once)."""
    for value, count in Counter([int(s * 1e6) for s in seconds]).items():
        histogram.record_value(min(max(value, LOWEST), HIGHEST), count)


def percentiles_ms(histogram: HdrHistogram) -> dict[str, float]:
    if histogram.get_total_count() == 0:
        return {**{f"p{q:g}": 0.0 for q in PERCENTILES}, "max": 0.0}
    out = {f"p{q:g}": histogram.get_value_at_percentile(q) / 1000 for q in PERCENTILES}
    out["max"] = histogram.get_max_value() / 1000
    return out


@dataclass
class Interval:
    """What one worker saw in one interval: counters, and durations in seconds not yet
    folded into the histograms."""

    index: int
    sent: int = 0
    late: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)  # fault injection, by kind
    latency: list[float] = field(default_factory=list)  # from the intended send time
    service: list[float] = field(default_factory=list)  # from the actual send time
    lag: list[float] = field(default_factory=list)  # actual - intended send time

    @property
    def completed(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def fold_pending(self, hists: dict[str, HdrHistogram]) -> None:
        """Move buffered durations into ``hists`` (the worker's, reused from interval to
        interval). Called every few tens of milliseconds, so no single fold stalls the
        event loop for long."""
        for name in HISTOGRAMS:
            values = getattr(self, name)
            if values:
                fold(hists[name], values)
                values.clear()

    def snapshot(
        self, hists: dict[str, HdrHistogram], encode: bool = True, closed_loop: bool = False
    ) -> dict[str, Any]:
        """A mergeable summary: counters and the histograms, encoded to cross a process
        boundary, or (in-process) the histograms themselves, to be merged before the
        worker resets them for the next interval. In a closed loop every request is sent
        the moment it is due, so its service time is its latency (only the latency is
        kept, and given for both) and it has no dispatch lag."""
        self.fold_pending(hists)
        encoded = {name: h.encode() if encode else h for name, h in hists.items()}
        if closed_loop:
            encoded["service"] = encoded["latency"]
        return {
            "index": self.index,
            "sent": self.sent,
            "ok": self.ok,
            "late": self.late,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "errors": dict(self.errors),
            "faults": dict(self.faults),
            **encoded,
        }


@dataclass
class Totals:
    """The merged view: per-interval rows for the time series, and run totals."""

    interval: float
    workers: int = 1  # snapshots per interval before its row is final
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    hists: dict[str, HdrHistogram] = field(
        default_factory=lambda: {n: new_histogram() for n in ("latency", "service", "lag")}
    )
    sent: int = 0
    ok: int = 0
    late: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    not_sent: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def add(self, snap: dict[str, Any]) -> None:
        row = self.rows.setdefault(
            snap["index"],
            {
                "sent": 0,
                "ok": 0,
                "completed": 0,
                "late": 0,
                "statuses": Counter(),
                "errors": Counter(),
                **({"latency": new_histogram()} if self.workers > 1 else {}),
                "reports": 0,
            },
        )
        row["reports"] += 1
        row["sent"] += snap["sent"]
        row["ok"] += snap["ok"]
        row["late"] += snap["late"]
        row["statuses"].update(snap["statuses"])
        row["errors"].update(snap["errors"])
        row["completed"] += sum(snap["statuses"].values()) + sum(snap["errors"].values())
        self.sent += snap["sent"]
        self.ok += snap["ok"]
        self.late += snap["late"]
        self.statuses.update(snap["statuses"])
        self.errors.update(snap["errors"])
        self.faults.update(snap.get("faults", {}))
        for name in ("latency", "service", "lag"):
            h = (
                snap[name]
                if isinstance(snap[name], HdrHistogram)
                else HdrHistogram.decode(snap[name])
            )
            self.hists[name].add(h)
            if name == "latency" and self.workers == 1:
                row["latency_ms"] = percentiles_ms(h)  # one worker: nothing to merge
            elif name == "latency" and "latency" in row:
                row["latency"].add(h)
        if (
            row["reports"] >= self.workers and "latency" in row
        ):  # final: keep its percentiles, drop the histogram
            row["latency_ms"] = percentiles_ms(row.pop("latency"))

    @property
    def completed(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def series(self) -> list[dict[str, Any]]:
        return [
            {
                "t": round(i * self.interval, 3),
                "sent": r["sent"],
                "completed": r["completed"],
                "ok": r["ok"],
                "late": r["late"],
                "rate": round(r["completed"] / self.interval, 1),
                "statuses": dict(r["statuses"]),
                "errors": dict(r["errors"]),
                "latency_ms": r.get("latency_ms") or percentiles_ms(r["latency"]),
            }
            for i, r in sorted(self.rows.items())
        ]
