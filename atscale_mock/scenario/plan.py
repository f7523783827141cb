"""The timeline of a scenario and the payloads it sends: pure, seeded, no network.

Each delivery has a planned offset from the scenario's start. A top-level step starts
``after`` its predecessor's last planned send (or ``at`` an offset, never before its
predecessor); repeats follow ``rate``/``every`` plus seeded ``jitter``; the branches of a
parallel group start together. Values are seeded per step id and repeat index, so adding
a step does not change the values of the others.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..ids import derive_seed
from ..payload import BuildOptions, build_payload, format_timestamp, get_path
from . import template
from .model import EventStep, Parallel, Scenario, Step
from .template import Ref


@dataclass(frozen=True, slots=True)
class Planned:
    offset: float  # seconds from the scenario's start
    step: EventStep
    index: int  # repeat index, 0-based
    group: int  # index of the top-level step it belongs to

    @property
    def label(self) -> str:
        return f"{self.step.id}#{self.index + 1}" if self.step.repeat.count > 1 else self.step.id


def repeat_offsets(step: EventStep, seed: int) -> list[float]:
    """Offsets of a step's sends from the step's start."""
    rng = random.Random(derive_seed(seed, step.id, "jitter"))
    r = step.repeat
    return [
        i * r.interval + (rng.uniform(0, r.jitter) if r.jitter else 0.0) for i in range(r.count)
    ]


def step_start(step: Step, cursor: float) -> float:
    return max(step.at, cursor) if step.at is not None else cursor + step.after


def branch_start(branch: EventStep, group_start: float) -> float:
    return group_start + (branch.at if branch.at is not None else branch.after)


def timeline(scenario: Scenario, seed: int) -> list[Planned]:
    """Every delivery, in planned order."""
    planned: list[Planned] = []
    cursor = 0.0
    for group, step in enumerate(scenario.steps):
        start = step_start(step, cursor)
        branches = step.branches if isinstance(step, Parallel) else (step,)
        for branch in branches:
            begin = branch_start(branch, start) if isinstance(step, Parallel) else start
            planned += [
                Planned(begin + off, branch, i, group)
                for i, off in enumerate(repeat_offsets(branch, seed))
            ]
        cursor = max((p.offset for p in planned if p.group == group), default=start)
    return sorted(planned, key=lambda p: (p.group, p.offset))


@dataclass
class StepState:
    payload: Any = None  # the latest payload the step built
    status: int | None = None  # the latest status it got


@dataclass
class PayloadFactory:
    """Builds each delivery's payload, resolving ``${steps...}`` from earlier steps."""

    scenario: Scenario
    seed: int
    clock: datetime
    planning: bool = False  # True: leave ${steps.ID.status} unresolved (no responses yet)
    states: dict[str, StepState] = field(default_factory=dict)

    def resolve(self, ref: Ref) -> Any:
        state = self.states.get(ref.name, StepState())
        if ref.path == "status":
            return ref.raw if self.planning else state.status
        try:
            return get_path(state.payload, ref.path.removeprefix("payload."))
        except KeyError:
            return None

    def render(self, value: Any) -> Any:
        return template.render(value, self.resolve)

    def build(self, p: Planned) -> dict[str, Any]:
        step = p.step
        options = BuildOptions(
            clock=self.clock + timedelta(seconds=p.offset), full=step.full, failed=step.failed
        )
        payload = build_payload(
            step.event, derive_seed(self.seed, step.id, p.index), options, self.render(step.set)
        )
        self.states.setdefault(step.id, StepState()).payload = payload
        return payload

    def record_status(self, step_id: str, status: int | None) -> None:
        self.states.setdefault(step_id, StepState()).status = status


def plan_document(scenario: Scenario, seed: int, clock: datetime, to: str | None) -> dict[str, Any]:
    """The plan as data: what `plan --json` prints and the text view renders."""
    factory = PayloadFactory(scenario, seed, clock, planning=True)
    deliveries: list[dict[str, Any]] = []
    for p in timeline(scenario, seed):
        payload = factory.build(p)
        target = factory.render(p.step.to) if p.step.to else to
        deliveries.append(
            {
                "offset": round(p.offset, 6),
                "label": p.label,
                "step": p.step.id,
                "index": p.index,
                "event": p.step.event.name,
                "to": target,
                "payload": payload,
            }
        )
    span = max((d["offset"] for d in deliveries), default=0.0)
    return {
        "scenario": scenario.name,
        "file": scenario.file,
        "seed": seed,
        "clock": format_timestamp(clock),
        "to": to,
        "deliveries": deliveries,
        "span_seconds": span,
    }


def render_plan(doc: dict[str, Any]) -> str:
    lines = [
        f"scenario: {doc['scenario']} ({doc['file']})",
        f"seed: {doc['seed']}  clock: {doc['clock']}  deliveries: "
        f"{len(doc['deliveries'])}  span: {doc['span_seconds']:.3f}s",
        f"to: {doc['to'] or '(not set: give --to)'}",
        "",
    ]
    for d in doc["deliveries"]:
        to = f"  -> {d['to']}" if d["to"] != doc["to"] else ""
        lines.append(f"  +{d['offset']:9.3f}s  {d['label']:<20} {d['event']}{to}")
        lines.append("      " + json.dumps(d["payload"], separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines)
