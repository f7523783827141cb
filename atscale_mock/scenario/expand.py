"""Expand engine steps into the events the simulation says they imply.

The result is a scenario of event steps and parallel groups only, which ``plan`` and
``run`` know how to schedule: each engine step becomes a parallel group whose branches
are single events at their simulated offsets.
"""

from __future__ import annotations

from dataclasses import replace

from ..events.catalogue import find_event
from ..events.versions import catalogue
from ..simulation.model import Engine, EngineSpec
from ..simulation.simulate import Emission, simulate
from ..simulation.steps import EngineStep
from .model import EventStep, Parallel, Scenario, Step
from .plan_time import branch_start, last_offset, step_start


def expand(scenario: Scenario, seed: int) -> tuple[Scenario, Engine | None]:
    """The scenario with engine steps replaced by events (those its AtScale version's
    catalogue has), and the engine's final state (None when it has no engine steps)."""
    if not any(isinstance(b, EngineStep) for s in scenario.steps for b in _branches(s)):
        return scenario, None
    engine = Engine.from_spec(scenario.engine or EngineSpec(), seed)
    # an engine of an older AtScale sends only its catalogue's events (no prune results)
    sends = catalogue(scenario.defaults.atscale_version).names
    steps: list[Step] = []
    cursor = 0.0
    for step in scenario.steps:
        start = step_start(step, cursor)
        branches: list[tuple[float, EventStep]] = []  # (absolute time, step)
        for branch in _branches(step):
            begin = branch_start(branch, start) if isinstance(step, Parallel) else start
            if isinstance(branch, EventStep):
                kept = replace(branch, after=begin - start, at=None)
                branches += [(begin + last_offset(branch, seed), kept)]
            else:
                branches += [
                    (begin + e.offset, _event_step(branch, n, e, begin - start))
                    for n, e in enumerate(simulate(engine, branch, begin))
                    if e.event in sends
                ]
        branches = [(t, b) for t, b in branches if not _after_unpublish(engine, b, t)]
        if isinstance(step, EventStep):
            steps.append(step)
        else:
            steps.append(
                Parallel(
                    step.id,
                    tuple(b for _, b in sorted(branches, key=_time)),
                    step.path,
                    step.after,
                    step.at,
                )
            )
        cursor = max((t for t, _ in branches), default=start)
    return replace(scenario, steps=tuple(steps)), engine


def _time(item: tuple[float, EventStep]) -> float:
    return item[0]


def _branches(step: Step) -> tuple[EventStep | EngineStep, ...]:
    return step.branches if isinstance(step, Parallel) else (step,)


def _event_step(step: EngineStep, n: int, e: Emission, base: float) -> EventStep:
    event = find_event(e.event)
    assert event is not None
    return EventStep(
        f"{step.id}-{n + 1}",
        step.path,
        event,
        dict(e.values),
        after=base + e.offset,
        full=e.full,
        note=e.note,
        project=e.project,
    )


def _after_unpublish(engine: Engine, step: EventStep, when: float) -> bool:
    project = engine.projects.get(step.project)
    return (
        project is not None
        and project.unpublished_at is not None
        and when > project.unpublished_at
        and step.event.name != "unpublish"
    )
