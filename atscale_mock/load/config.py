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


@dataclass
class LoadConfig:
    url: str
    phases: list[Phase]  # empty: closed loop (--rate max)
    duration: float
    connections: int
    mix: dict[str, float]
    seed: int
    processes: int = 1
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
