"""Load statistics: latencies go into HDR histograms (3 significant digits, 1 µs to
1 hour), one per interval and one for the whole run; memory stays flat however long
the run. Durations are buffered as floats and folded in every few tens of milliseconds:
counted with a Counter, each distinct value is recorded once (``Recorder``)."""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST, HIGHEST, DIGITS = 1, 3_600_000_000, 3  # microseconds
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


HISTOGRAMS = ("latency", "service", "lag")
PER_INTERVAL = ("latency", "lag")  # histograms the time series keeps percentiles of


def new_recorders() -> dict[str, Recorder]:
    return {name: Recorder() for name in HISTOGRAMS}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST, HIGHEST, DIGITS)


def cells(histogram: HdrHistogram) -> memoryview:
    """The histogram's counts (a ``ctypes`` array) as a memoryview of 64-bit cells, which
    copies and converts in C rather than one ``ctypes`` access per cell."""
    assert histogram.word_size == 8  # hdrh's default; "Q" below relies on it
    return memoryview(histogram.counts).cast("B").cast("Q")


def merge(into: HdrHistogram, other: HdrHistogram) -> None:
    """``into.add(other)`` for histograms of the same layout, adding only the cells
    between ``other``'s minimum and maximum, in C-level passes (``hdrh``'s ``add``
    records every cell again, in Python: about 15 ms here, which the open loop would
    show as dispatch lag)."""
    if not other.total_count:
        return
    lo = other._counts_index_for(other.min_value)
    hi = other._counts_index_for(other.max_value) + 1
    a, b = cells(into), cells(other)
    a[lo:hi] = array("Q", map(add, a[lo:hi].tolist(), b[lo:hi].tolist()))
    into.total_count += other.total_count
    into.min_value = min(into.min_value, other.min_value)
    into.max_value = max(into.max_value, other.max_value)


class Recorder:
    """An HDR histogram that records in bulk: values are counted into a plain list with
    ``hdrh``'s index arithmetic inlined (its ``record_value`` makes five calls and two
    ``ctypes`` accesses per value; this is several times faster), and copied into the
    ``hdrh`` histogram, which encodes, merges and answers percentiles, when it is asked
    for. Reused from interval to interval (``reset``), so nothing grows."""

    def __init__(self) -> None:
        self.hist = new_histogram()
        h = self.hist
        assert h.unit_magnitude == 0  # LOWEST is 1: the index arithmetic below relies on it
        self.mask, self.half_mag = h.sub_bucket_mask, h.sub_bucket_half_count_magnitude
        self.cells = [0] * h.counts_len
        self.total, self.low, self.high = 0, HIGHEST, LOWEST

    def fold(self, seconds: list[float]) -> None:
        """Record durations in seconds, as whole microseconds (each distinct value once)."""
        self.record(Counter([int(s * 1e6) for s in seconds]))

    def record(self, counts: Counter[int]) -> None:
        if not counts:
            return
        low, high = min(counts), max(counts)
        if low < LOWEST or high > HIGHEST:  # out of range: clamped (rare, so done apart)
            clamped: Counter[int] = Counter()
            for value, n in counts.items():
                clamped[min(max(value, LOWEST), HIGHEST)] += n
            counts, low, high = clamped, min(clamped), max(clamped)
        mask, half_mag, cells = self.mask, self.half_mag, self.cells
        top = half_mag + 1
        for value, n in counts.items():
            # hdrh's counts index for unit magnitude 0
            bucket = (value | mask).bit_length() - top
            cells[(bucket << half_mag) + (value >> bucket)] += n
        self.total += sum(counts.values())
        self.low, self.high = min(self.low, low), max(self.high, high)

    def histogram(self) -> HdrHistogram:
        """The ``hdrh`` histogram of what was recorded since the last reset."""
        h = self.hist
        cells(h)[:] = array("Q", self.cells)
        h.total_count = self.total
        h.min_value, h.max_value = (self.low, self.high) if self.total else (sys.maxsize, 0)
        return h

    def reset(self) -> None:
        self.cells = [0] * len(self.cells)
        self.total, self.low, self.high = 0, HIGHEST, LOWEST


def percentiles_ms(histogram: HdrHistogram) -> dict[str, float]:
    """p50 to p99.9 and the maximum, in milliseconds: what ``get_value_at_percentile``
    answers, from one running sum and a binary search per percentile (``hdrh`` walks
    the cells in Python for each)."""
    h = histogram
    if h.get_total_count() == 0:
        return {**{f"p{q:g}": 0.0 for q in PERCENTILES}, "max": 0.0}
    running = list(accumulate(cells(h).tolist()))
    out = {f"p{q:g}": _value_at(h, running, q) / 1000 for q in PERCENTILES}
    out["max"] = h.get_max_value() / 1000
    return out


def distribution_ms(histogram: HdrHistogram) -> list[list[float]]:
    """The percentile distribution, HDR style: the value (ms) at 0, 50, 75, 87.5, ...
    percent, halving what is left at each step while at least one value lies beyond,
    then the maximum at 100. What the reports plot on a log scale."""
    h = histogram
    total = h.get_total_count()
    if total == 0:
        return []
    running = list(accumulate(cells(h).tolist()))
    out = []
    k = 0
    while k == 0 or (0.5**k * total >= 1 and k <= 40):
        q = 100.0 * (1 - 0.5**k)
        out.append([round(q, 6), _value_at(h, running, q) / 1000])
        k += 1
    out.append([100.0, h.get_max_value() / 1000])
    return out


def _value_at(h: HdrHistogram, running: list[int], q: float) -> float:
    index = bisect_left(running, h.get_target_count_at_percentile(q))
    return float(h.get_highest_equivalent_value(h.get_value_from_index(index)))


@dataclass
class Tally:
    """The counters a worker's interval and the run's totals both keep: requests sent,
    sent late, answers by status, failures by error class, faults injected by kind."""

    sent: int = 0
    late: int = 0
    statuses: Counter[Any] = field(default_factory=Counter)  # int (a worker), str (merged)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)  # fault injection, by kind

    @property
    def completed(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


@dataclass
class Interval(Tally):
    """What one worker saw in one interval: its :class:`Tally`, and durations in seconds
    not yet folded into the histograms."""

    index: int = 0
    latency: list[float] = field(default_factory=list)  # from the intended send time
    service: list[float] = field(default_factory=list)  # from the actual send time
    lag: list[float] = field(default_factory=list)  # actual - intended send time

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def fold_pending(self, recorders: dict[str, Recorder]) -> None:
        """Move buffered durations into ``recorders`` (the worker's, reused from interval
        to interval). Called every few tens of milliseconds, so no single fold stalls the
        event loop for long."""
        for name in HISTOGRAMS:
            values = getattr(self, name)
            if values:
                recorders[name].fold(values)
                values.clear()

    def snapshot(
        self, recorders: dict[str, Recorder], encode: bool = True, closed_loop: bool = False
    ) -> dict[str, Any]:
        """A mergeable summary: counters and the histograms, encoded to cross a process
        boundary, or (in-process) the histograms themselves, to be merged before the
        worker resets them for the next interval. In a closed loop every request is sent
        the moment it is due, so its service time is its latency (only the latency is
        kept, and given for both) and it has no dispatch lag."""
        self.fold_pending(recorders)
        hists = {name: r.histogram() for name, r in recorders.items()}
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
class Totals(Tally):
    """The merged view: the run's :class:`Tally` (statuses keyed by text, as snapshots
    carry them), per-interval rows for the time series, and the merged histograms."""

    interval: float = 1.0
    workers: int = 1  # snapshots per interval before its row is final
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    hists: dict[str, HdrHistogram] = field(
        default_factory=lambda: {n: new_histogram() for n in ("latency", "service", "lag")}
    )
    ok: int = 0

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
                **({n: new_histogram() for n in PER_INTERVAL} if self.workers > 1 else {}),
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
            merge(self.hists[name], h)
            if name in PER_INTERVAL and self.workers == 1:
                row[f"{name}_ms"] = percentiles_ms(h)  # one worker: nothing to merge
            elif name in PER_INTERVAL and name in row:
                merge(row[name], h)
        if row["reports"] >= self.workers:  # final: keep its percentiles, drop the histograms
            for name in PER_INTERVAL:
                if name in row:
                    row[f"{name}_ms"] = percentiles_ms(row.pop(name))

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
                "lag_ms": r.get("lag_ms") or percentiles_ms(r["lag"]),
            }
            for i, r in sorted(self.rows.items())
        ]
