"""Summaries of delivery results: counts by status and error class, latency percentiles."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .retry import Attempt


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Reservoir:
    """Values for percentiles in bounded memory: every value up to ``cap`` (exact
    percentiles), then a uniform sample of ``cap`` of them (Algorithm R, seeded); the
    maximum is always exact. A run of a hundred million deliveries keeps 100,000."""

    __slots__ = ("cap", "count", "values", "max", "_rng")

    def __init__(self, cap: int = 100_000) -> None:
        self.cap = cap
        self.count = 0
        self.values: list[float] = []
        self.max = 0.0
        self._rng: random.Random | None = None

    def append(self, value: float) -> None:
        self.count += 1
        if value > self.max:
            self.max = value
        if len(self.values) < self.cap:
            self.values.append(value)
            return
        if self._rng is None:
            self._rng = random.Random(0)
        j = self._rng.randrange(self.count)
        if j < self.cap:
            self.values[j] = value

    def sorted(self) -> list[float]:
        return sorted(self.values)

    def __len__(self) -> int:
        return self.count


@dataclass
class Summary:
    """Running totals over deliveries (a delivery's last attempt decides its result)."""

    deliveries: int = 0
    ok: int = 0
    attempts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: Reservoir = field(default_factory=Reservoir)
    dropped: int = 0  # deliveries fault injection generated but never sent
    copies: int = 0  # duplicates sent (each also counted in deliveries)
    passed: int = 0  # deliveries that met their expectation (default: a 2xx)

    def add(self, attempts: list[Attempt], passed: bool | None = None, copy: bool = False) -> None:
        self.deliveries += 1
        self.copies += copy
        self.attempts += len(attempts)
        last = attempts[-1].outcome
        self.ok += last.ok
        self.passed += last.ok if passed is None else passed
        if last.status is not None:
            self.statuses[str(last.status)] += 1
        else:
            self.errors[last.error_class or "transport"] += 1
        self.latencies.append(last.latency)

    @property
    def failed(self) -> int:
        """Deliveries that did not meet their expectation (by default: got no 2xx)."""
        return self.deliveries - self.passed

    def as_dict(self) -> dict[str, Any]:
        lat = self.latencies.sorted()
        ms = {f"p{q:g}": round(percentile(lat, q) * 1000, 3) for q in (50, 90, 99)}
        ms["max"] = round(self.latencies.max * 1000, 3) if lat else 0.0
        return {
            "deliveries": self.deliveries,
            "ok": self.ok,
            "passed": self.passed,
            "failed": self.failed,
            "attempts": self.attempts,
            "dropped": self.dropped,
            "duplicates": self.copies,
            "statuses": dict(self.statuses),
            "errors": dict(self.errors),
            "latency_ms": ms,
        }
