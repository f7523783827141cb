"""Run a scenario against a receiver through a :class:`~atscale_mock.delivery.transport.Sender`.

Steps run in order; a step starts when the previous one has finished (every delivery
settled) and its planned time has come. The deliveries of a step are dispatched at their
planned offsets from the step's start. Cancelling the run (Ctrl-C; the CLI turns SIGTERM
into it) records in-flight attempts
as interrupted, and the result says what was and was not sent.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..delivery.dispatch import Copies, Dispatcher, Job, Prepared
from ..delivery.faults import Faults, Slot, arrange_items
from ..delivery.request import build_request, fill_url
from ..delivery.retry import Attempt
from ..delivery.signing import Signing
from ..events.ids import derive_seed
from ..events.payload import get_path
from .expand import expand
from .model import EventStep, Scenario
from .plan import Group, PayloadFactory, Planned, count_deliveries, event_steps, schedule
from .result import DeliveryResult, RunResult


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
    if expect.json:  # the whole decoded body (up to its cap), not the 1 KiB kept for logs
        failures += _check_json(expect.json, outcome.full_body or outcome.body)
    return failures


def _without_full_bodies(attempts: list[Attempt]) -> list[Attempt]:
    return [
        replace(a, outcome=replace(a.outcome, full_body=None))
        if a.outcome.full_body is not None
        else a
        for a in attempts
    ]


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
    """A scenario as a source of deliveries for ``dispatcher`` (the pipeline's dispatch
    loop: its sender, retries, signing and limit on deliveries in flight) and a sink of
    their results; each step's deliveries overlap at their planned offsets."""

    scenario: Scenario
    seed: int
    clock: datetime
    to: str | None
    dispatcher: Dispatcher
    headers: dict[str, str] = field(default_factory=dict)
    on_result: Callable[[DeliveryResult], None] | None = None
    faults: Faults = field(default_factory=Faults)
    keep_results: bool = True  # False: counts only (no report needs the list)

    def __post_init__(self) -> None:
        self.fault_rng = random.Random(derive_seed(self.seed, "faults"))
        self.monotonic = self.dispatcher.monotonic
        self.signer = self.dispatcher.signer

    async def run(self) -> RunResult:
        """Run every step; engine steps are first expanded into the events they imply.
        When cancelled, the result says so and holds what was done."""
        self.scenario = expand(self.scenario, self.seed)[0]
        result = RunResult(
            self.scenario, self.seed, count_deliveries(self.scenario), keep=self.keep_results
        )
        factory = PayloadFactory(self.scenario, self.seed, self.clock)
        t0 = self.monotonic()
        task = asyncio.current_task()
        try:
            await self._steps(schedule(self.scenario, self.seed), t0, factory, result)
        except asyncio.CancelledError:
            result.interrupted = True
            if task is not None:
                task.uncancel()
        finally:
            result.elapsed = self.monotonic() - t0
        return result

    async def _steps(
        self,
        groups: Iterator[Group],
        t0: float,
        factory: PayloadFactory,
        result: RunResult,
    ) -> None:
        """Offsets are simulated seconds; waits are those divided by the time scale. A step
        starts at its planned time, but never before the previous one has finished.
        With reordering, the whole run is one stream at its planned times, so a window
        can move a delivery across steps (a result before its start). Deliveries are
        made as they fall due: the first goes out at once, whatever the run's size."""
        scale = self.scenario.time_scale
        if self.faults.reorder > 1:
            await self.dispatcher.run(self._jobs(_due(groups, t0, 0.0, scale), factory, result))
            return
        done_at = t0
        for step, group in zip(self.scenario.steps, groups, strict=True):
            wait_from = done_at + (step.after / scale if step.at is None else 0.0)
            start = max(t0 + group.start / scale, wait_from)
            due = _due(iter((group,)), start, group.start, scale)
            await self.dispatcher.run(self._jobs(due, factory, result))
            done_at = self.monotonic()

    def _jobs(
        self, due: Iterator[tuple[float, Planned]], factory: PayloadFactory, result: RunResult
    ) -> Iterator[Job]:
        """Faults decide which delivery goes at each planned time, and what happens to it.
        Deliveries are taken from ``due`` as they are needed; payloads are built in
        planned order, whatever order the sends go out in, so `${steps.ID.payload...}`
        always finds the earlier step's payload."""
        own: dict[str, Faults] = {}

        def faults_of(item: tuple[float, Planned]) -> Faults:
            step = item[1].step
            if not step.faults:
                return self.faults
            if step.id not in own:
                own[step.id] = replace(self.faults, **step.faults)
            return own[step.id]

        waiting: dict[int, Planned] = {}  # taken from `due`, payload not built yet
        built: dict[int, dict[str, Any]] = {}  # built ahead of its send (a reordered window)
        cursor = 0

        def taken() -> Iterator[tuple[float, Planned]]:
            for index, item in enumerate(due):
                waiting[index] = item[1]
                yield item

        def payload_of(index: int) -> dict[str, Any]:
            nonlocal cursor
            while cursor <= index:
                built[cursor] = factory.build(waiting.pop(cursor))
                cursor += 1
            return built.pop(index)

        per_step = any(s.faults for s in event_steps(self.scenario))
        sends = arrange_items(taken(), self.faults, self.fault_rng, faults_of if per_step else None)
        copies = Copies()
        for slot, (_, planned), (when, _) in sends:

            def build(planned: Planned = planned, slot: Slot = slot) -> Prepared:
                key = (planned.step.id, planned.index)
                return copies.take(
                    key, slot, lambda: self._prepare(planned, slot, factory, payload_of)
                )

            def done(
                prepared: Prepared, attempts: list[Attempt], lag: float, planned: Planned = planned
            ) -> None:
                self._settle(planned, prepared, attempts, lag, factory, result)

            yield Job(when + slot.delay, build, done)

    def _prepare(
        self,
        planned: Planned,
        slot: Slot,
        factory: PayloadFactory,
        payload_of: Callable[[int], dict[str, Any]],
    ) -> Prepared:
        step = planned.step
        payload = payload_of(slot.index)
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
        return Prepared(request, payload, planned.label, slot.dropped, signer=self._signer_of(step))

    def _signer_of(self, step: EventStep) -> tuple[Signing | None] | None:
        """The step's own signing, when it differs from the run's (None: the run's)."""
        if not step.sign:
            return (None,)
        if self.signer is None or not (step.bad_signature or step.stale_timestamp):
            return None
        return (replace(self.signer, bad=step.bad_signature, stale=step.stale_timestamp),)

    def _settle(
        self,
        planned: Planned,
        prepared: Prepared,
        attempts: list[Attempt],
        lag: float,
        factory: PayloadFactory,
        result: RunResult,
    ) -> None:
        if attempts[-1].outcome.error_class == "interrupted":
            return  # cut short by an interruption: reported as not sent (the log has it)
        if prepared.dropped:
            outcome = DeliveryResult(planned, attempts, [], lag, True, prepared.copy)
            result.totals.drop()
        elif prepared.copy:  # a duplicate: reported, its expectations not checked again
            outcome = DeliveryResult(planned, attempts, [], lag, copy=True)
            result.totals.add(attempts, True, copy=True)
        else:
            factory.record_status(planned.step.id, attempts[-1].outcome.status)
            failures = check_expectations(planned.step, attempts)
            attempts = _without_full_bodies(attempts)  # checked: no need to hold them
            outcome = DeliveryResult(planned, attempts, failures, lag)
            result.totals.add(attempts, not failures)
        result.add(outcome)
        if self.on_result:
            self.on_result(outcome)


def _due(
    groups: Iterator[Group], start: float, planned_start: float, scale: float
) -> Iterator[tuple[float, Planned]]:
    """Each delivery with its due time on the monotonic clock: ``start`` stands for the
    planned offset ``planned_start``, and offsets are divided by the time scale."""
    for group in groups:
        for p in group.items:
            yield start + (p.offset - planned_start) / scale, p
