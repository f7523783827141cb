"""The timeline of a scenario and the payloads it sends: pure, seeded, no network.

Each delivery has a planned offset from the scenario's start. A top-level step starts
``after`` its predecessor's last planned send (or ``at`` an offset, never before its
predecessor); repeats follow ``rate``/``every`` plus seeded ``jitter``; the branches of a
parallel group start together. Values are seeded per step id and repeat index, so adding
a step does not change the values of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..ids import derive_seed
from ..payload import BuildOptions, build_payload, encode, format_timestamp, get_path
from . import template
from .expand import expand
from .model import EventStep, Parallel, Scenario
from .plan_time import branch_start, repeat_offsets, step_start
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


def schedule(scenario: Scenario, seed: int) -> list[tuple[float, list[Planned]]]:
    """For each top-level step: its planned start and its deliveries in planned order.
    The one place that turns timing keys into offsets, for ``plan`` and ``run`` alike."""
    groups: list[tuple[float, list[Planned]]] = []
    cursor = 0.0
    for group, step in enumerate(scenario.steps):
        start = step_start(step, cursor)
        items: list[Planned] = []
        for branch in step.branches if isinstance(step, Parallel) else (step,):
            assert isinstance(branch, EventStep), "expand() engine steps before scheduling"
            begin = branch_start(branch, start) if isinstance(step, Parallel) else start
            items += [
                Planned(begin + off, branch, i, group)
                for i, off in enumerate(repeat_offsets(branch, seed))
            ]
        items.sort(key=lambda p: p.offset)
        groups.append((start, items))
        cursor = max((p.offset for p in items), default=start)
    return groups


def timeline(scenario: Scenario, seed: int) -> list[Planned]:
    """Every delivery, in planned order."""
    return [p for _, items in schedule(scenario, seed) for p in items]


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
    """The plan as data: what `plan --json` prints and the text view renders. Engine
    steps are expanded into the events they imply; offsets are simulated seconds."""
    scenario = expand(scenario, seed)[0]
    factory = PayloadFactory(scenario, seed, clock, planning=True)
    deliveries: list[dict[str, Any]] = []
    for p in timeline(scenario, seed):
        payload = factory.build(p)
        target = factory.render(p.step.to) if p.step.to else to
        entry = {
            "offset": round(p.offset, 6),
            "label": p.label,
            "step": p.step.id,
            "index": p.index,
            "event": p.step.event.name,
            "to": target,
            "payload": payload,
        }
        if scenario.time_scale != 1.0:
            entry["wall_offset"] = round(p.offset / scenario.time_scale, 6)
            entry["time"] = format_timestamp(clock + timedelta(seconds=p.offset))
        if p.step.note:
            entry["note"] = p.step.note
        deliveries.append(entry)
    span = max((d["offset"] for d in deliveries), default=0.0)
    return _document(scenario, seed, clock, to, deliveries, span)


def _document(
    scenario: Scenario, seed: int, clock: datetime, to: str | None, deliveries: Any, span: float
) -> dict[str, Any]:
    """The keys every plan document has (``deliveries``: the list, or their count)."""
    return {
        "scenario": scenario.name,
        "file": scenario.file,
        "seed": seed,
        "clock": format_timestamp(clock),
        "time_scale": scenario.time_scale,
        "to": to,
        "deliveries": deliveries,
        "span_seconds": span,
        "wall_seconds": round(span / scenario.time_scale, 6),
    }


def plan_summary(scenario: Scenario, seed: int, clock: datetime, to: str | None) -> dict[str, Any]:
    """What ``plan --summary`` shows: counts by event and by step, and the span, from
    the timing keys alone: no payload and no delivery is made, so memory does not grow
    with the number of deliveries (a repeat of ten million is counted, not listed)."""
    scenario = expand(scenario, seed)[0]
    by_event: dict[str, int] = {}
    by_step: dict[str, int] = {}
    total = 0
    span = 0.0
    cursor = 0.0
    for step in scenario.steps:
        start = step_start(step, cursor)
        end = start
        for branch in step.branches if isinstance(step, Parallel) else (step,):
            assert isinstance(branch, EventStep), "expand() engine steps before scheduling"
            begin = branch_start(branch, start) if isinstance(step, Parallel) else start
            count = branch.repeat.count
            total += count
            name = branch.event.name
            by_event[name] = by_event.get(name, 0) + count
            key = branch.id.rsplit("-", 1)[0] if branch.note else branch.id
            by_step[key] = by_step.get(key, 0) + count
            end = max(end, begin + _last_offset(branch, seed))
        span = max(span, end)
        cursor = end
    return {
        **_document(scenario, seed, clock, to, total, span),
        "span_seconds": round(span, 6),
        "events": dict(sorted(by_event.items())),
        "steps": by_step,
    }


def _last_offset(step: EventStep, seed: int) -> float:
    """The latest of a step's repeat offsets, as :func:`repeat_offsets` makes them, one
    at a time (never a list of them)."""
    import random

    from ..ids import derive_seed

    r = step.repeat
    if not r.jitter:
        return (r.count - 1) * r.interval if r.count else 0.0
    rng = random.Random(derive_seed(seed, step.id, "jitter"))
    uniform, jitter, interval = rng.uniform, r.jitter, r.interval
    return max(i * interval + uniform(0, jitter) for i in range(r.count))


def _header(doc: dict[str, Any]) -> list[str]:
    scale = doc["time_scale"]
    wall = f" (wall {doc['wall_seconds']:.3f}s at time_scale {scale:g})" if scale != 1 else ""
    return [
        f"scenario: {doc['scenario']} ({doc['file']})",
        f"seed: {doc['seed']}  clock: {doc['clock']}  deliveries: "
        f"{_count(doc['deliveries'])}  span: {doc['span_seconds']:.3f}s{wall}",
        f"to: {doc['to'] or '(not set: give --to)'}",
        "",
    ]


def render_plan(doc: dict[str, Any]) -> str:
    lines = _header(doc)
    for d in doc["deliveries"]:
        to = f"  -> {d['to']}" if d["to"] != doc["to"] else ""
        when = f"  {d['time']} wall +{d['wall_offset']:.3f}s" if "time" in d else ""
        note = f"  {d['note']}" if "note" in d else ""
        lines.append(f"  +{d['offset']:9.3f}s  {d['label']:<20} {d['event']}{to}{when}{note}")
        lines.append("      " + encode(d["payload"]).decode())
    return "\n".join(lines)


def _count(deliveries: Any) -> int:
    return deliveries if isinstance(deliveries, int) else len(deliveries)


def render_summary(doc: dict[str, Any]) -> str:
    """Counts by event and by step (a :func:`plan_summary` document), without payloads."""
    lines = _header(doc)
    lines.append("events:")
    lines += [f"  {name:<20} {n:>6}" for name, n in sorted(doc["events"].items())]
    lines.append("steps:")
    lines += [f"  {name:<20} {n:>6}" for name, n in doc["steps"].items()]
    return "\n".join(lines)
