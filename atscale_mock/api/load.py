"""Sustained load from Python: ``load()`` runs the built-in load generator
(asyncio/httptools workers, one process or several) or Locust, and returns the summary
the CLI prints."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..delivery.faults import Faults
from ..errors import UsageError
from ..events.payload import format_timestamp
from .options import Delivery, Headers, Signing, as_rate, delivery_of, refuse_unused, resolve_seed
from .target import resolve_target

if TYPE_CHECKING:
    from ..load.schedule import Phase
    from ..load.stats import Totals
    from ..load.summary import LoadSummary, SeriesRow
    from ..load.thresholds import ThresholdResult

DEFAULT_CONNECTIONS = 50
GENERATORS = ("builtin", "locust")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A load run's summary (a :class:`~atscale_mock.load.summary.LoadSummary`, typed;
    ``to_json()``: the CLI's ``--json``, without the series); ``ok`` when every
    threshold passed and the run was not interrupted."""

    summary: LoadSummary
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(t["passed"] for t in self.thresholds)

    @property
    def seed(self) -> int:
        """The seed of the payloads (the same run again: ``load(..., seed=result.seed)``)."""
        return self.summary["seed"]

    @property
    def failed(self) -> int:
        """Requests that completed without a 2xx (an error or another status)."""
        return self.summary["completed"] - self.summary["ok"]

    @property
    def series(self) -> list[SeriesRow]:
        """The run interval by interval (``summary["interval_s"]`` seconds each)."""
        return self.summary["series"]

    @property
    def thresholds(self) -> list[ThresholdResult]:
        return self.summary.get("thresholds", [])

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.summary.items() if k != "series"}


def load(
    *,
    to: str,
    rate: float | str | None = None,
    duration: float = 10.0,
    ramp: tuple[float, float] | None = None,
    phases: list[Phase] | None = None,
    connections: int = DEFAULT_CONNECTIONS,
    processes: int = 1,
    mix: Mapping[str, float] | None = None,
    seed: int | None = None,
    delivery: Delivery | None = None,
    headers: Headers = None,
    sign: Signing | None = None,
    faults: Faults | None = None,
    timeout: float | None = None,
    verify: bool | str | None = None,
    full: bool = False,
    thresholds: list[str] | tuple[str, ...] = (),
    atscale_version: str | None = None,
    generator: str = "builtin",
    engine: str | None = None,
    progress: Callable[[Totals, float], None] | None = None,
    freeze_gc: bool = False,
    spin: bool = False,
) -> LoadResult:
    """Load ``to`` (a URL, placeholders allowed, or ``"local"``) for ``duration``
    seconds: open loop at ``rate`` requests/s, a ``ramp`` (from, to), or ``phases``;
    closed loop (as fast as answered) when none is given. ``mix`` weighs the events
    (default: a busy engine's). ``thresholds`` like ``"p99<50ms"`` decide ``ok``.
    ``freeze_gc`` (off: the caller's collector is left alone) freezes setup objects out
    of the collector's work for shorter pauses, in a process that runs only this.
    ``spin`` busy-waits the last millisecond before each open-loop send (tightest
    timing, a core per worker, only with a spare core); by default workers sleep on a
    timerfd. The summary says which (``spin``). ``atscale_version`` (``"I2022.4.1"``)
    keeps the default mix to that version's events and refuses a ``mix`` naming another.
    ``generator`` is what makes the load: ``"builtin"`` (asyncio and httptools, in
    ``processes`` processes) or ``"locust"`` (a headless Locust master and workers);
    ``engine`` is its old name, deprecated ("engine" is the simulated AtScale engine).
    ``delivery`` is the :class:`Delivery` record (``headers``, ``sign``, ``faults``,
    ``timeout``, ``verify`` are shortcuts for its fields); the load's own hot loop makes
    its connections (``connections``) and never retries, so a record with ``retry``,
    ``max_in_flight`` or ``transport`` is refused naming the field."""
    from ..load.config import LoadConfig, LoadPlan
    from ..load.generator import parse_mix
    from ..load.runner import run_load
    from ..load.schedule import Phase as PhaseRecord
    from ..load.summary import summarize
    from ..load.thresholds import evaluate, parse_threshold
    from ..redact import Redactor

    if engine is not None:
        import warnings

        warnings.warn(
            "load(engine=...) is deprecated: use generator=...", DeprecationWarning, stacklevel=2
        )
        generator = engine
    if generator not in GENERATORS:
        raise UsageError(
            f"generator: unknown load generator {generator!r}",
            " or ".join(GENERATORS),
            field="generator",
        )
    check_capacity(connections, processes)
    rate = as_rate(rate)
    if ramp and rate:
        raise UsageError("ramp and rate contradict each other", "give one of them")
    checks = [parse_threshold(t) for t in thresholds]
    if phases is None:
        if ramp:
            phases = [PhaseRecord(duration, ramp[0], ramp[1])]
        else:
            phases = [] if rate is None else [PhaseRecord(duration, rate)]
    check_rates(phases)
    if not phases:  # a closed loop has no target: a *target threshold is refused now
        for check in checks:
            check.limit(None)
    run_seed = resolve_seed(seed)
    from ..events.versions import catalogue

    weights = dict(mix) if mix else parse_mix(None)
    weights = catalogue(atscale_version).within(weights, default=weights == parse_mix(None))
    _check_placeholders(to, weights)
    how = delivery_of(
        delivery, headers=headers, sign=sign, faults=faults, timeout=timeout, verify=verify
    )
    refuse_unused(how, "load", ("retry", "max_in_flight", "transport"))
    active = how.faults
    if active.drop >= 1:
        raise UsageError(
            "drop must be below 1 for a load test (at 1 nothing would ever be sent)",
            "for example drop=0.1",
        )
    redactor = Redactor()
    started = time.time()
    with resolve_target(to) as url:
        shape = LoadPlan(to, phases, duration, connections, processes, weights, list(thresholds))
        config = LoadConfig(
            shape,
            url,
            run_seed,
            how.headers,
            how.timeout,
            how.verify,
            full,
            faults=active,
            signer=how.sign if how.sign else None,
            spin=spin,
        )
        if generator == "locust":
            from ..load.locust_runner import run_locust

            if active.active:
                raise UsageError("fault injection is not available with the locust generator")
            summary = run_locust(config)
            interrupted = bool(summary["interrupted"])
        else:
            result = run_load(config, progress, freeze_gc)
            summary = summarize(result, run_seed)
            interrupted = result.interrupted
    summary["url"] = redactor.text(summary["url"])
    summary["started_at"] = format_timestamp(datetime.fromtimestamp(started, UTC))
    summary["phases"] = [
        {"duration_s": p.duration, "rate": p.rate, "ramp_to": p.ramp_to} for p in phases
    ]
    summary["thresholds"] = evaluate(checks, summary["metrics"], config.target_rate)
    return LoadResult(summary, interrupted)


MAX_RATE = 10_000_000.0  # requests/s: far beyond a machine; a typo (or inf) stops here


def check_rates(phases: Sequence[Phase]) -> None:
    """Every rate of every phase (ramps included) finite, >= 0 and under MAX_RATE; a
    phase must send something."""
    for phase in phases:
        for rate in (phase.rate, phase.end_rate):
            if not 0 <= rate < MAX_RATE:
                raise UsageError(
                    f"rate: {rate:g} requests/s is outside 0 .. {MAX_RATE:,.0f}",
                    "or 'max' (closed loop) for as fast as the receiver answers",
                )
        if not 0 < phase.duration < 1e7:
            raise UsageError(f"duration: {phase.duration:g} s is not a usable duration")
        if phase.rate == phase.end_rate == 0:
            raise UsageError("rate: a phase at 0 requests/s sends nothing")


def process_ceiling() -> int:
    """The most worker processes a load may start here: four per core (more only
    time-slice the same cores)."""
    import os

    return 4 * (os.cpu_count() or 1)


def connection_ceiling(processes: int = 1) -> int:
    """The most connections per process this machine's open-file limit allows (each
    connection is a descriptor; 64 are kept for everything else)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 10_000
    limit = hard if hard != resource.RLIM_INFINITY else 1 << 20
    del soft  # a worker raises its soft limit to the hard one
    return max(1, limit - 64)


def check_capacity(connections: int, processes: int) -> None:
    """Counts the machine cannot honour are usage errors, said before anything runs,
    with the ceiling and how to raise it."""
    if connections < 1:
        raise UsageError(f"connections must be at least 1, got {connections}")
    if processes < 1:
        raise UsageError(f"processes must be at least 1, got {processes}")
    if processes > process_ceiling():
        raise UsageError(
            f"processes: {processes} is over this machine's ceiling of {process_ceiling()} "
            "(four per core)",
            "use --processes auto (one per core), or run Locust workers on more machines",
        )
    per_process = -(-connections // processes)
    if per_process > connection_ceiling():
        raise UsageError(
            f"connections: {per_process} per process is over this machine's open-file "
            f"limit ({connection_ceiling()} usable)",
            "raise it with `ulimit -Hn` (as root), spread them with --processes, "
            "or lower --connections",
        )


def _check_placeholders(url: str, weights: Mapping[str, float]) -> None:
    """Every event of the mix must have the fields the URL's placeholders name: said
    before the run, not as its first failure."""
    from ..delivery.request import fill_url, has_placeholders
    from ..events.make import payload

    if not has_placeholders(url):
        return
    for name, weight in weights.items():
        if weight > 0:
            try:
                fill_url(url, payload(name, seed=0))
            except UsageError as exc:
                raise UsageError(
                    f"{exc.message} (event {name} of the mix)",
                    "drop it from the mix, or use a placeholder every event has",
                ) from None
