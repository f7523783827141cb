"""The timeline of a scenario and the payloads it sends: pure, seeded, no network.

Each delivery has a planned offset from the scenario's start. A top-level step starts
``after`` its predecessor's last planned send (or ``at`` an offset, never before its
predecessor); repeats follow ``rate``/``every`` plus seeded ``jitter``; the branches of a
parallel group start together. Values are seeded per step id and repeat index, so adding
a step does not change the values of the others.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..errors import UsageError
from ..events.ids import derive_seed
from ..events.payload import PayloadOptions, build_payload, encode, format_timestamp, get_path
from . import template
from .expand import expand
from .model import EventStep, Parallel, Scenario
from .plan_time import branch_start, last_offset, sorted_offsets, step_start
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


@dataclass
class Group:
    """One top-level step: its planned start, how many deliveries it has, and those
    deliveries in planned order, made as they are taken (``items``). ``last`` is the
    latest offset taken so far: the group's end once ``items`` is exhausted."""

    start: float
    count: int
    last: float
    items: Iterator[Planned] = field(default_factory=lambda: iter(()))


def schedule(scenario: Scenario, seed: int) -> Iterator[Group]:
    """The top-level steps in order, each with its deliveries as a stream: the one place
    that turns timing keys into offsets, for ``plan`` and ``run`` alike. Nothing is
    listed: memory does not grow with a step's repeat count. A step starts after its
    predecessor's last planned send, so a group's start is known once the group before
    it has been taken (a group left unread is read through when the next is asked for)."""
    cursor = 0.0
    for number, step in enumerate(scenario.steps):
        start = step_start(step, cursor)
        branches = step.branches if isinstance(step, Parallel) else (step,)
        streams = []
        count = 0
        for b, branch in enumerate(branches):
            assert isinstance(branch, EventStep), "expand() engine steps before scheduling"
            begin = branch_start(branch, start) if isinstance(step, Parallel) else start
            streams.append(_branch(begin, b, branch, seed))
            count += branch.repeat.count
        group = Group(start, count, start)
        group.items = _group_items(group, streams, number)
        yield group
        for _ in group.items:  # what the caller did not take still moves the cursor
            pass
        cursor = group.last


def _branch(
    begin: float, number: int, step: EventStep, seed: int
) -> Iterator[tuple[float, int, int, EventStep]]:
    for offset, index in sorted_offsets(step, seed):
        yield begin + offset, number, index, step


def _group_items(
    group: Group, streams: list[Iterator[tuple[float, int, int, EventStep]]], number: int
) -> Iterator[Planned]:
    """The branches merged in planned order (ties: the earlier branch, then the lower
    repeat index), noting the latest offset as it goes."""
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams)
    for offset, _, index, step in merged:
        if offset > group.last:
            group.last = offset
        yield Planned(offset, step, index, number)


def step_key(step: EventStep) -> str:
    """The step a delivery is counted under: an engine step's events (ids ``NAME-N``,
    with a note) under the engine step's name."""
    return step.id.rsplit("-", 1)[0] if step.note else step.id


def count_deliveries(scenario: Scenario) -> int:
    """How many deliveries a scenario (its engine steps expanded) plans, from the
    timing keys alone."""
    return sum(step.repeat.count for step in event_steps(scenario))


def event_steps(scenario: Scenario) -> Iterator[EventStep]:
    """Every event step, parallel branches included (engine steps are not events yet)."""
    for step in scenario.steps:
        for branch in step.branches if isinstance(step, Parallel) else (step,):
            if isinstance(branch, EventStep):
                yield branch


def timeline(scenario: Scenario, seed: int) -> Iterator[Planned]:
    """Every delivery, in planned order, made as it is taken."""
    for group in schedule(scenario, seed):
        yield from group.items


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
        try:
            return template.render(value, self.resolve)
        except template.ExpansionError as exc:
            raise UsageError(f"a step reference {exc}", "references cannot multiply text") from None

    def build(self, p: Planned) -> dict[str, Any]:
        step = p.step
        try:
            when = self.clock + timedelta(seconds=p.offset)
        except OverflowError:  # a timeline of millennia: no timestamp can carry it
            raise UsageError(
                f"step {step.id!r} falls {p.offset:.0f} s after the scenario's clock, "
                "past the year 9999 (no timestamp can say when)",
                "shorten its after/at/every durations, or its repeat count",
            ) from None
        options = PayloadOptions(
            set=self.render(step.set), full=step.full, failed=step.failed, clock=when
        )
        payload = build_payload(step.event, derive_seed(self.seed, step.id, p.index), options)
        self.states.setdefault(step.id, StepState()).payload = payload
        return payload

    def record_status(self, step_id: str, status: int | None) -> None:
        self.states.setdefault(step_id, StepState()).status = status


def plan_document(scenario: Scenario, seed: int, clock: datetime, to: str | None) -> dict[str, Any]:
    """The plan as data: what `plan --json` prints and the text view renders. Engine
    steps are expanded into the events they imply; offsets are simulated seconds.
    This lists every delivery; :func:`plan_stream` gives the same without holding them."""
    head, deliveries = plan_stream(scenario, seed, clock, to)
    return {**head, "deliveries": list(deliveries)}


def plan_stream(
    scenario: Scenario, seed: int, clock: datetime, to: str | None
) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The plan document's keys (``deliveries``: their count) and its deliveries, made
    one at a time as they are taken: what ``plan`` prints, in memory that does not grow
    with the number of deliveries."""
    expanded = expand(scenario, seed)[0]  # once: the engine is simulated once
    summary = plan_summary(expanded, seed, clock, to)
    head = {k: v for k, v in summary.items() if k not in ("events", "steps")}
    return head, _deliveries(expanded, seed, clock, to)


def _deliveries(
    scenario: Scenario, seed: int, clock: datetime, to: str | None
) -> Iterator[dict[str, Any]]:
    factory = PayloadFactory(scenario, seed, clock, planning=True)
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
        yield entry


def plan_json_lines(head: dict[str, Any], deliveries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The plan document as ``json.dumps(doc, indent=2)`` writes it, a delivery at a
    time (``deliveries`` in place of the count in ``head``)."""
    keys = list(head)
    yield "{"
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        if key != "deliveries":
            yield f"  {json.dumps(key)}: {json.dumps(head[key], ensure_ascii=False)}{comma}"
            continue
        previous = None
        for entry in deliveries:
            if previous is None:
                yield '  "deliveries": ['
            else:
                yield previous + ","
            text = json.dumps(entry, indent=2, ensure_ascii=False)
            previous = "\n".join("    " + line for line in text.split("\n"))
        yield '  "deliveries": []' + comma if previous is None else previous + "\n  ]" + comma
    yield "}"


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
            key = step_key(branch)
            by_step[key] = by_step.get(key, 0) + count
            end = max(end, begin + last_offset(branch, seed))
        span = max(span, end)
        cursor = end
    return {
        **_document(scenario, seed, clock, to, total, span),
        "span_seconds": round(span, 6),
        "events": dict(sorted(by_event.items())),
        "steps": by_step,
    }


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


def plan_text_lines(head: dict[str, Any], deliveries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The text view of a plan, a line at a time."""
    yield from _header(head)
    for d in deliveries:
        to = f"  -> {d['to']}" if d["to"] != head["to"] else ""
        when = f"  {d['time']} wall +{d['wall_offset']:.3f}s" if "time" in d else ""
        note = f"  {d['note']}" if "note" in d else ""
        yield f"  +{d['offset']:9.3f}s  {d['label']:<20} {d['event']}{to}{when}{note}"
        yield "      " + encode(d["payload"]).decode()


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
