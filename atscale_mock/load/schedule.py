"""Open-loop arrival schedules: when each request is intended to be sent (pure)."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Phase:
    """``duration`` seconds at a rate going linearly from ``rate`` to ``ramp_to``."""

    duration: float
    rate: float
    ramp_to: float | None = None

    @property
    def end_rate(self) -> float:
        return self.rate if self.ramp_to is None else self.ramp_to

    @property
    def expected(self) -> float:
        """Requests this phase intends to send."""
        return (self.rate + self.end_rate) / 2 * self.duration


def arrivals(phases: list[Phase]) -> Iterator[float]:
    """Intended send offsets (seconds from the start), in order, for all phases.
    Within a phase the k-th arrival is where the integral of the rate reaches k."""
    base = 0.0
    for phase in phases:
        a, b, d = phase.rate, phase.end_rate, phase.duration
        c = (b - a) / (2 * d)  # N(t) = a*t + c*t^2
        k = 0
        while True:
            if c == 0:
                if a <= 0:
                    break
                t = k / a
            else:
                t = (-a + math.sqrt(a * a + 4 * c * k)) / (2 * c)
            if t >= d:
                break
            yield base + t
            k += 1
        base += d


def total_duration(phases: list[Phase]) -> float:
    return sum(p.duration for p in phases)


def delayed(
    times: Iterator[float], delay: float, jitter: float, rng: random.Random
) -> Iterator[float]:
    """Each time plus ``delay`` and up to ``jitter`` more at random, still in order."""
    heap: list[float] = []
    for t in times:
        heapq.heappush(heap, t + delay + (rng.uniform(0, jitter) if jitter else 0.0))
        while heap and heap[0] < t + delay:  # no later arrival can come before these
            yield heapq.heappop(heap)
    while heap:
        yield heapq.heappop(heap)
