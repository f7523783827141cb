"""What a load run is given, and what each worker is given and gives back: plain data,
so it crosses to worker processes (pickled) and into the summary."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace

from ..delivery.faults import Faults
from ..delivery.signing import Signing
from .schedule import Phase, total_duration


@dataclass
class WorkerResult:
    not_sent: int = 0
    connections_opened: int = 0
    skipped: int = 0  # arrivals dropped because the backlog was full
    pool_exhausted: int = 0  # dispatch rounds in which due requests found no free connection
    interrupted: bool = False
    events: dict[str, int] = field(default_factory=dict)  # requests written, by event


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """A load run's shape, as a user gives it (``load``'s options, a scenario's ``load:``
    section; read by :func:`atscale_mock.api.load_plan.plan_load`): the receiver, the rate
    phases, how long, how many connections and processes, the event mix, thresholds."""

    to: str
    phases: list[Phase]  # empty: closed loop (as fast as the receiver answers)
    duration: float  # seconds
    connections: int
    processes: int = 1
    mix: dict[str, float] = field(default_factory=dict)
    thresholds: list[str] = field(default_factory=list)  # the scenario's; the CLI adds its own

    @property
    def rate_text(self) -> str:
        if not self.phases:
            return "max rate"
        return f"{sum(p.expected for p in self.phases) / self.duration:.0f} req/s"


@dataclass
class LoadConfig:
    """What a load run's generator is given: the :class:`LoadPlan` (embedded; its ``mix``
    already kept to the AtScale version's events), the receiver's address as resolved,
    the seed, and how each request goes out."""

    plan: LoadPlan
    url: str  # the plan's ``to``, resolved ("local": the built-in receiver's address)
    seed: int
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = 10.0
    verify: bool | str = True
    full: bool = False
    interval: float = 1.0
    faults: Faults = field(default_factory=Faults)
    signer: Signing | None = None
    #: open loop: busy-wait the last millisecond before each send (a core per worker,
    #: for the tightest timing) instead of sleeping on a timerfd. Opt-in, and only where
    #: the machine has a spare core per worker.
    spin: bool = False

    # the plan's shape, read through
    @property
    def phases(self) -> list[Phase]:
        return self.plan.phases

    @property
    def duration(self) -> float:
        return self.plan.duration

    @property
    def connections(self) -> int:
        return self.plan.connections

    @property
    def processes(self) -> int:
        return self.plan.processes

    @property
    def mix(self) -> dict[str, float]:
        return self.plan.mix

    @property
    def spinning(self) -> bool:
        return self.spin and self.processes + 1 <= (os.cpu_count() or 1)

    @property
    def closed_loop(self) -> bool:
        return not self.phases

    @property
    def target_rate(self) -> float | None:
        """The mean intended rate (None in closed loop)."""
        if not self.phases:
            return None
        return sum(p.expected for p in self.phases) / total_duration(self.phases)

    def worker(self, index: int) -> WorkerConfig:
        n = self.processes
        share = [
            replace(p, rate=p.rate / n, ramp_to=None if p.ramp_to is None else p.ramp_to / n)
            for p in self.phases
        ]
        return WorkerConfig(
            self, share, max(1, math.ceil(self.connections / n)), index, spin=self.spinning
        )


@dataclass
class WorkerConfig:
    """One worker's share of a load run: the run's :class:`LoadConfig` (embedded, not
    copied), and what is this worker's own: its share of the phases and connections."""

    load: LoadConfig
    phases: list[Phase]  # this worker's share of the rates; empty: closed loop
    connections: int
    worker: int = 0
    encode: bool = True  # histograms leave as bytes (False: in-process, as objects)
    spin: bool = True  # open loop: busy-wait the last millisecond (else: timerfd)

    # what every worker of the run has in common, read through
    @property
    def url(self) -> str:
        return self.load.url

    @property
    def duration(self) -> float:
        return self.load.duration

    @property
    def mix(self) -> dict[str, float]:
        return self.load.mix

    @property
    def seed(self) -> int:
        return self.load.seed

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return self.load.headers

    @property
    def timeout(self) -> float:
        return self.load.timeout

    @property
    def verify(self) -> bool | str:
        return self.load.verify

    @property
    def full(self) -> bool:
        return self.load.full

    @property
    def interval(self) -> float:
        return self.load.interval

    @property
    def faults(self) -> Faults:
        return self.load.faults

    @property
    def signer(self) -> Signing | None:
        return self.load.signer
