"""When things happen, in simulated seconds from a scenario's start (pure)."""

from __future__ import annotations

import random

from ..engine.steps import EngineStep
from ..ids import derive_seed
from .model import EventStep, Step


def repeat_offsets(step: EventStep, seed: int) -> list[float]:
    """Offsets of a step's sends from the step's start."""
    rng = random.Random(derive_seed(seed, step.id, "jitter"))
    r = step.repeat
    return [
        i * r.interval + (rng.uniform(0, r.jitter) if r.jitter else 0.0) for i in range(r.count)
    ]


def step_start(step: Step | EngineStep, cursor: float) -> float:
    return max(step.at, cursor) if step.at is not None else cursor + step.after


def branch_start(branch: EventStep | EngineStep, group_start: float) -> float:
    return group_start + (branch.at if branch.at is not None else branch.after)
