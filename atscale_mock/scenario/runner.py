"""Run a scenario against a receiver through a :class:`~atscale_mock.sender.Sender`.

Steps run in order; a step starts when the previous one has finished (every delivery
settled) and its planned time has come. The deliveries of a step are dispatched at their
planned offsets from the step's start. Ctrl-C / SIGTERM cancel the run: in-flight attempts
are recorded as interrupted and the result says what was and was not sent.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..delivery import Attempt, RetryPolicy, deliver
from ..faults import Faults, Slot, arrange
from ..ids import derive_seed
from ..outgoing import build_request, signing_hook
from ..payload import get_path
from ..sender import Sender
from ..sending import dropped_attempt, fill_url
from ..signing import Signer
from ..stats import Summary
from .expand import expand
from .model import EventStep, Scenario
from .plan import PayloadFactory, Planned, schedule


@dataclass
class DeliveryResult:
    planned: Planned
    attempts: list[Attempt]
    failures: list[str]  # unmet expectations, empty when passed
    lag: float  # seconds between the planned and the actual first send
    dropped: bool = False  # fault injection generated it and never sent it

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def faults(self) -> tuple[str, ...]:
        return self.attempts[-1].request.faults


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    planned: int
    results: list[DeliveryResult] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    interrupted: bool = False
    elapsed: float = 0.0

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results)

    @property
    def not_sent(self) -> int:
        """Planned deliveries never attempted (an interrupted run); duplicates and drops
        made by fault injection do not count here."""
        done = {(r.planned.step.id, r.planned.index) for r in self.results}
        return self.planned - len(done)


def check_expectations(step: EventStep, attempts: list[Attempt]) -> list[str]:
    """Why the last attempt does not meet the step's expectations (empty if it does)."""
    expect, outcome = step.expect, attempts[-1].outcome
    failures = []
    if not expect.status_ok(outcome.status):
        got = (
            outcome.status
            if outcome.status is not None
            else f"{outcome.error_class} ({outcome.error})"
        )
        failures.append(f"expected status {expect.describe_status()}, got {got}")
    if expect.max_latency is not None and outcome.latency > expect.max_latency:
        failures.append(
            f"expected latency <= {expect.max_latency * 1000:g} ms, "
            f"got {outcome.latency * 1000:.1f} ms"
        )
    if expect.json:
        failures += _check_json(expect.json, outcome.body)
    return failures


def _check_json(wanted: dict[str, Any], body: str) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return [f"expected a JSON response body, got {body[:80]!r}"]
    failures = []
    for path, value in wanted.items():
        try:
            got = get_path(data, path)
        except KeyError:
            failures.append(f"expected response {path} = {value!r}, but it is missing")
            continue
        if got != value:
            failures.append(f"expected response {path} = {value!r}, got {got!r}")
    return failures


@dataclass
class Runner:
    scenario: Scenario
    seed: int
    clock: datetime
    to: str | None
    sender: Sender
    policy: RetryPolicy
    headers: dict[str, str] = field(default_factory=dict)
    on_attempt: Callable[[Attempt], None] | None = None
    on_result: Callable[[DeliveryResult], None] | None = None
    monotonic: Callable[[], float] = time.monotonic
    faults: Faults = field(default_factory=Faults)
    signer: Signer | None = None

    def __post_init__(self) -> None:
        self.fault_rng = random.Random(derive_seed(self.seed, "faults"))
        self._built: dict[tuple[str, int], Any] = {}

    async def run(self) -> RunResult:
        """Run every step; engine steps are first expanded into the events they imply."""
        self.scenario = expand(self.scenario, self.seed)[0]
        groups = schedule(self.scenario, self.seed)
        result = RunResult(self.scenario, self.seed, sum(len(items) for _, items in groups))
        factory = PayloadFactory(self.scenario, self.seed, self.clock)
        gc.collect()
        gc.freeze()  # long-lived setup objects leave the collector's work: shorter pauses
        t0 = self.monotonic()
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        _on_sigterm(loop, task)
        try:
            await self._steps(groups, t0, factory, result)
        except asyncio.CancelledError:
            result.interrupted = True
            if task is not None:
                task.uncancel()
        finally:
            gc.unfreeze()
            _on_sigterm(loop, None)
            result.elapsed = self.monotonic() - t0
        return result

    async def _steps(
        self,
        groups: list[tuple[float, list[Planned]]],
        t0: float,
        factory: PayloadFactory,
        result: RunResult,
    ) -> None:
        """Offsets are simulated seconds; waits are those divided by the time scale. A step
        starts at its planned time, but never before the previous one has finished."""
        scale = self.scenario.time_scale
        done_at = t0
        for step, (planned_start, items) in zip(self.scenario.steps, groups, strict=True):
            wait_from = done_at + (step.after / scale if step.at is None else 0.0)
            start = max(t0 + planned_start / scale, wait_from)
            due = [(start + (p.offset - planned_start) / scale, p) for p in items]
            await self._dispatch(due, factory, result)
            done_at = self.monotonic()

    async def _dispatch(
        self, due: list[tuple[float, Planned]], factory: PayloadFactory, result: RunResult
    ) -> None:
        """One dispatcher per step: wait for each planned time, start that delivery, and
        return when all have settled (a task per delivery, created only when due). Faults
        decide which delivery goes at each planned time, and what happens to it."""
        slots = arrange(len(due), self.faults, self.fault_rng)
        tasks: list[asyncio.Task[None]] = []
        try:
            for position, slot in enumerate(slots):
                when = due[min(position, len(due) - 1)][0] + slot.delay
                await sleep_until(when, self.monotonic)
                planned = due[slot.index][1]
                tasks.append(asyncio.create_task(self._one(planned, when, factory, result, slot)))
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _one(
        self, planned: Planned, due: float, factory: PayloadFactory, result: RunResult, slot: Slot
    ) -> None:
        step = planned.step
        key = (step.id, planned.index)
        payload = self._built.pop(key, None) if slot.duplicate else None
        if payload is None:
            payload = factory.build(planned)
            if self.faults.duplicates:
                self._built[key] = payload
        url_template = factory.render(step.to) if step.to else self.to
        headers = {**self.headers, **factory.render(step.headers)}
        request = build_request(
            step.event.name,
            fill_url(str(url_template), payload),
            payload,
            headers,
            slot,
            self.fault_rng,
        )
        lag = max(0.0, self.monotonic() - due)  # planned vs actual hand-over to the sender
        if slot.dropped:
            attempt = dropped_attempt(request, payload, planned.label)
            if self.on_attempt:
                self.on_attempt(attempt)
            self._settle(result, DeliveryResult(planned, [attempt], [], lag, dropped=True))
            return
        attempts = await deliver(
            self.sender,
            request,
            self.policy,
            payload=payload,
            label=planned.label,
            on_attempt=self.on_attempt,
            prepare=signing_hook(self.signer),
        )
        factory.record_status(step.id, attempts[-1].outcome.status)
        self._settle(
            result, DeliveryResult(planned, attempts, check_expectations(step, attempts), lag)
        )
        result.summary.add(attempts)

    def _settle(self, result: RunResult, outcome: DeliveryResult) -> None:
        result.results.append(outcome)
        if outcome.dropped:
            result.summary.dropped += 1
        if self.on_result:
            self.on_result(outcome)


SPIN = 0.002  # the last 2 ms before a send are waited by yielding, not by a timer


async def sleep_until(due: float, monotonic: Callable[[], float] = time.monotonic) -> None:
    """Sleep until ``due`` on the monotonic clock: a timer for most of the wait, then a
    few loop turns, since timers wake up to a millisecond or more late under load."""
    delay = due - monotonic() - SPIN
    if delay > 0:
        await asyncio.sleep(delay)
    while monotonic() < due:
        await asyncio.sleep(0)


def _on_sigterm(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any] | None) -> None:
    """SIGTERM cancels the run like Ctrl-C does (where the platform allows)."""
    import signal

    try:
        if task is None:
            loop.remove_signal_handler(signal.SIGTERM)
        else:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
