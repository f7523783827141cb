"""What a ``load`` run will do, from what a user wrote: the receiver, the rate phases
(``--rate``, ``--ramp`` or a scenario's ``phases:``), the duration, connections,
processes, the event mix and the scenario's thresholds. The CLI's ``load`` and anything
else that takes the same words (a scenario's ``load:`` section) share this one reading,
so ``--rate 10/s`` means the same here as in ``send`` and in a scenario file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..load.config import LoadPlan
from ..load.generator import parse_mix
from ..load.schedule import Phase
from ..scenario.units import parse_duration, parse_rate_option
from .load import DEFAULT_CONNECTIONS, MAX_RATE

DEFAULT_DURATION = "10s"


def parse_load_rate(text: str | None) -> float | None:
    """``--rate``: events per second (``2000``, ``10/s``, ``600/m``), or ``max`` (None)
    for the closed loop."""
    if text is None or text.strip().lower() == "max":
        return None
    try:
        value = parse_rate_option(text)
    except ValueError:
        raise UsageError(
            f"--rate: expected a rate such as 2000, 10/s or 600/m, or 'max', got {text!r}"
        ) from None
    if value >= MAX_RATE:
        raise UsageError(
            f"--rate must be below {MAX_RATE:,.0f} per second, got {text}",
            "or 'max' for as fast as the receiver answers",
        )
    return value


def parse_ramp(text: str) -> tuple[float, float]:
    """``--ramp FROM..TO``: each end a rate (``100..5000``, ``10/s..100/s``); FROM may
    be 0."""
    start, sep, end = text.partition("..")
    try:
        if not sep or "max" in text.lower():
            raise UsageError(text)
        a = 0.0 if _is_zero(start) else parse_load_rate(start)
        b = parse_load_rate(end)
    except UsageError:
        a = b = None
    if a is None or b is None:
        raise UsageError(
            f"--ramp expects FROM..TO, two rates with TO > 0, got {text!r}",
            "for example --ramp 100..5000 or --ramp 10/s..100/s",
        ) from None
    return a, b


def parse_processes(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--processes expects a number >= 1 or 'auto', got {text!r}")
    return int(text)


def parse_load_duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--duration: expected {exc}, got {text!r}") from None
    if seconds <= 0:
        raise UsageError("--duration must be greater than zero")
    return seconds


def scenario_load(file: Path) -> dict[str, Any]:
    """The ``load:`` section of a scenario, with its events as the default mix and its
    ``defaults.to`` as the receiver."""
    from ..scenario.reading import read_scenario

    scenario = read_scenario(file)
    spec: dict[str, Any] = dict(scenario.load or {})
    if "mix" not in spec:
        weights: dict[str, float] = {}
        for step in scenario.event_steps():
            weights[step.event.name] = weights.get(step.event.name, 0) + step.repeat.count
        if weights:
            spec["mix"] = weights
    if scenario.defaults.to:
        spec["to"] = scenario.defaults.to
    return spec


def plan_load(
    *,
    to: str | None = None,
    file: Path | None = None,
    rate: str | None = None,
    ramp: str | None = None,
    duration: str | None = None,
    connections: int | None = None,
    processes: str | None = None,
    mix: str | None = None,
    shifts_sends: bool = False,
) -> LoadPlan:
    """Read a load run the way ``atscale-mock load`` does: options win over the
    scenario ``file``'s ``load:`` section, which wins over the defaults.
    ``shifts_sends``: --delay or --jitter were asked for (they need an open loop)."""
    spec = scenario_load(file) if file else {}
    url = to or spec.get("to")
    if not url:
        raise UsageError("no receiver URL", "give --to URL (or 'local')")
    if duration is None and "phases" in spec:
        seconds = sum(p.duration for p in spec["phases"])
    else:
        seconds = parse_load_duration(duration or DEFAULT_DURATION)
    if shifts_sends and not (ramp or (rate and rate != "max") or "phases" in spec):
        raise UsageError(
            "--delay and --jitter shift intended send times: they need an "
            "open-loop --rate or --ramp"
        )
    if ramp and rate:
        raise UsageError("--ramp and --rate contradict each other", "use one of them")
    if ramp:
        a, b = parse_ramp(ramp)
        phases = [Phase(seconds, a, b)]
    elif rate is not None or "phases" not in spec:
        r = parse_load_rate(rate)
        phases = [] if r is None else [Phase(seconds, r)]
    else:
        phases = spec["phases"]
    return LoadPlan(
        to=url,
        phases=phases,
        duration=seconds,
        connections=int(connections or spec.get("connections") or DEFAULT_CONNECTIONS),
        processes=parse_processes(processes or str(spec.get("processes", 1))),
        mix=parse_mix(mix) if mix else spec.get("mix") or parse_mix(None),
        thresholds=list(spec.get("thresholds") or []),
    )


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False
