"""When things happen, in simulated seconds from a scenario's start (pure)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator

from ..events.ids import derive_seed
from ..simulation.steps import EngineStep
from .model import EventStep, Step


def sorted_offsets(step: EventStep, seed: int) -> Iterator[tuple[float, int]]:
    """Offsets of a step's sends from the step's start, as (offset, repeat index) in
    planned order, made as they are taken. The i-th offset is ``i * interval`` plus a
    seeded jitter in [0, jitter), drawn in index order; since no later send can come
    before ``(i + 1) * interval``, a heap of one jitter's worth of sends is all that is
    ever held (ties go to the lower index)."""
    r = step.repeat
    interval = r.interval
    if not r.jitter:
        yield from ((i * interval, i) for i in range(r.count))
        return
    uniform, jitter = random.Random(derive_seed(seed, step.id, "jitter")).uniform, r.jitter
    heap: list[tuple[float, int]] = []
    for i in range(r.count):
        heapq.heappush(heap, (i * interval + uniform(0, jitter), i))
        floor = (i + 1) * interval
        while heap[0][0] <= floor:
            yield heapq.heappop(heap)
            if not heap:
                break
    while heap:
        yield heapq.heappop(heap)


def last_offset(step: EventStep, seed: int) -> float:
    """The latest of a step's repeat offsets (as :func:`sorted_offsets` makes them), one
    at a time, never a list of them."""
    r = step.repeat
    if not r.jitter:
        return (r.count - 1) * r.interval if r.count else 0.0
    uniform = random.Random(derive_seed(seed, step.id, "jitter")).uniform
    jitter, interval = r.jitter, r.interval
    return max((i * interval + uniform(0, jitter) for i in range(r.count)), default=0.0)


def step_start(step: Step | EngineStep, cursor: float) -> float:
    return max(step.at, cursor) if step.at is not None else cursor + step.after


def branch_start(branch: EventStep | EngineStep, group_start: float) -> float:
    return group_start + (branch.at if branch.at is not None else branch.after)
