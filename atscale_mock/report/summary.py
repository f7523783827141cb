"""Summaries of delivery results: counts by status and error class, latency percentiles."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..delivery.retry import Attempt


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Summary:
    """Running totals over deliveries (a delivery's last attempt decides its result)."""

    deliveries: int = 0
    ok: int = 0
    attempts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
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
        lat = sorted(self.latencies)
        ms = {f"p{q:g}": round(percentile(lat, q) * 1000, 3) for q in (50, 90, 99)}
        ms["max"] = round(lat[-1] * 1000, 3) if lat else 0.0
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
