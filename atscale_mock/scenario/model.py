"""The scenario model (format version 1): small frozen records, no I/O.

A step is one *kind* of step, chosen by the key it carries: ``event`` (an
:class:`EventStep`) or ``parallel`` (a :class:`Parallel` group). Engine-level kinds
(``batch``, ``queries``, ``publish``...) are further kinds beside these, so the format
grows by new keys without changing existing ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from ..delivery.faults import Faults
from ..errors import UsageError
from ..events.catalogue import Event
from ..simulation.model import EngineSpec
from ..simulation.steps import EngineStep, SingleStep
from .yamlpos import Path

SCENARIO_VERSION = 1


@dataclass(frozen=True, slots=True)
class Expect:
    """What a delivery must get. ``status`` holds codes ("200") or classes ("2xx")."""

    status: tuple[str, ...] = ("2xx",)
    max_latency: float | None = None  # seconds
    json: dict[str, Any] = field(default_factory=dict)  # response body: dotted path -> value

    def merged(self, other: dict[str, Any]) -> Expect:
        """This expectation with the keys a step sets replaced."""
        return Expect(
            other.get("status", self.status),
            other.get("max_latency", self.max_latency),
            other.get("json", self.json),
        )

    def status_ok(self, status: int | None) -> bool:
        if status is None:
            return False
        code = str(status)
        return any(
            want == code or (want.endswith("xx") and want[0] == code[0]) for want in self.status
        )

    def describe_status(self) -> str:
        return " or ".join(self.status)

    def describe(self) -> str:
        parts = [f"status {self.describe_status()}"]
        if self.max_latency is not None:
            parts.append(f"latency <= {self.max_latency * 1000:g} ms")
        parts += [f"response {k} = {v!r}" for k, v in self.json.items()]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Repeat:
    count: int = 1
    interval: float = 0.0  # seconds between sends (from rate or every)
    jitter: float = 0.0  # up to this many seconds added to each send, seeded


@dataclass(frozen=True, slots=True)
class EventStep(SingleStep):
    """One event, sent ``repeat`` times (``id``, ``path``, ``after`` and ``at`` are every
    step's, declared by SingleStep)."""

    event: Event
    set: dict[str, Any] = field(default_factory=dict)  # may hold ${...} references
    repeat: Repeat = Repeat()
    expect: Expect = Expect()
    full: bool = False
    failed: bool = False
    to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""  # what the engine simulation says this event is about
    project: str = ""  # the simulated project it concerns ("" for written steps)
    faults: dict[str, Any] = field(default_factory=dict)  # this step's own fault keys
    sign: bool = True  # false: this step goes unsigned even when the run signs
    bad_signature: bool = False  # a well-formed but wrong signature (needs signing)
    stale_timestamp: float = 0.0  # seconds to back-date the signature (standard-webhooks)


@dataclass(frozen=True, slots=True)
class Parallel:
    """Branches that start together; the group ends when every branch has."""

    id: str
    branches: tuple[EventStep | EngineStep, ...]
    path: Path
    after: float = 0.0
    at: float | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(b.id for b in self.branches)


Step = EventStep | Parallel | EngineStep


@dataclass(frozen=True, slots=True)
class Defaults:
    to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    seed: int | None = None
    expect: Expect = Expect()
    atscale_version: str | None = None  # whose catalogue: None, the latest


@dataclass(frozen=True, slots=True)
class Scenario:
    file: str
    name: str
    steps: tuple[Step, ...]
    defaults: Defaults = Defaults()
    vars: dict[str, Any] = field(default_factory=dict)  # resolved values
    clock: str | None = None  # ISO 8601 start of payload time; None: seeded default or now
    secrets: tuple[str, ...] = ()  # resolved ${secret:} values, to redact
    engine: EngineSpec | None = None
    time_scale: float = 1.0  # simulated seconds per wall-clock second
    load: dict[str, Any] | None = None  # the `load:` section: phases, mix, connections...
    faults: Faults = Faults()

    def event_steps(self) -> list[EventStep]:
        out: list[EventStep] = []
        for step in self.steps:
            branches = step.branches if isinstance(step, Parallel) else (step,)
            out.extend(b for b in branches if isinstance(b, EventStep))
        return out


def as_expect(status: str | list[str] | tuple[str, ...] | None) -> Expect | None:
    """``"401"``, ``"4xx"``, ``"401,403"`` (or a list of those) as an expectation; None
    keeps the default (a 2xx passes)."""
    if status is None:
        return None
    parts = status.split(",") if isinstance(status, str) else list(status)
    wanted = tuple(str(p).strip().lower() for p in parts if str(p).strip())
    bad = [
        w
        for w in wanted
        if not (
            len(w) == 3
            and ((w.isdigit() and 100 <= int(w) <= 599) or (w[0] in "12345" and w[1:] == "xx"))
        )
    ]
    if not wanted or bad:
        raise UsageError(
            f"expect_status: {status!r} is not a status code (100-599) or class",
            "for example 401, 4xx or 401,403",
            field="expect_status",
        )
    return Expect(status=wanted)
