"""What one ``send``-like call delivers and collects: a :class:`SendPlan` (N payloads of
one event, their schedule and faults), a :class:`Collector` of results that an
interruption does not lose, and :func:`deliver_plans`, which hands plans to the one
dispatch loop. Shared by ``send``, ``demo`` and ``replay``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from ..aliases import Target
from ..delivery.dispatch import Copies, Job, Prepared, Timing
from ..delivery.faults import Faults, Slot, arrange
from ..delivery.pipeline import Pipeline
from ..delivery.request import build_request, fill_url
from ..delivery.retry import Attempt, OnAttempt
from ..delivery.summary import Summary
from ..events.ids import derive_seed
from ..events.payload import PayloadOptions, build_payload
from .options import Delivery
from .results import DeliveryRecord, ScheduleFigures, SendResult

if TYPE_CHECKING:
    from ..events.catalogue import Event
    from ..scenario.model import Expect


@dataclass(frozen=True, slots=True)
class SendPlan:
    """What ``send`` delivers: ``count`` payloads of one event, the i-th due i/rate
    seconds in (one after another without a rate)."""

    event: Event
    url: str
    seed: int
    count: int = 1
    rate: float | None = None
    options: PayloadOptions = field(default_factory=PayloadOptions)  # its clock: a time
    headers: tuple[tuple[str, str], ...] = ()
    fixed_clock: bool = False  # True: options.clock (+ index/rate); False: now at build
    faults: Faults = field(default_factory=Faults)

    def payload(self, index: int) -> dict[str, Any]:
        if self.fixed_clock:
            step = index / self.rate if self.rate else 0.0
            start = self.options.moment()
            options = replace(self.options, clock=start + timedelta(seconds=step))
        else:
            options = replace(self.options, clock=datetime.now(UTC))
        return build_payload(self.event, derive_seed(self.seed, "send", index), options)

    def jobs(self, start: float, collect: Collector) -> Iterator[Job]:
        """The plan's sends in order, each built when it falls due; a duplicate is a
        copy of its original (:class:`Copies`)."""
        fault_rng = random.Random(derive_seed(self.seed, "faults"))
        slots = arrange(self.count, self.faults, fault_rng)
        copies = Copies()
        for position, slot in enumerate(slots):
            due = start + position / self.rate + slot.delay if self.rate else None

            def build(slot: Slot = slot) -> Prepared:
                return copies.take(slot.index, slot, lambda: self._prepare(slot, fault_rng))

            yield Job(due, build, collect.done, delay=0.0 if self.rate else slot.delay)

    def _prepare(self, slot: Slot, fault_rng: random.Random) -> Prepared:
        body = self.payload(slot.index)
        label = str(slot.index + 1) if self.count > 1 else ""
        request = build_request(
            self.event.name, fill_url(self.url, body), body, dict(self.headers), slot, fault_rng
        )
        return Prepared(request, body, label, slot.dropped)


@dataclass
class Collector:
    """Results as they come, so an interrupted call still has them."""

    keep: bool = True
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    expect: Expect | None = None
    summary: Summary = field(default_factory=Summary)
    records: list[DeliveryRecord] = field(default_factory=list)
    timing: Timing = field(default_factory=Timing)

    def done(self, prepared: Prepared, attempts: list[Attempt], lag: float) -> None:
        passed = None
        if prepared.dropped:
            self.summary.drop()
        else:
            if self.expect is not None:
                passed = self.expect.status_ok(attempts[-1].outcome.status)
            self.summary.add(attempts, passed, prepared.copy)
        if self.keep:
            self.records.append(DeliveryRecord.of(attempts, passed))

    def result(self, interrupted: bool = False) -> SendResult:
        return SendResult(
            self.seed,
            str(self.extra.get("url") or ""),
            self.summary.as_dict(),
            tuple(self.records),
            interrupted,
            ScheduleFigures.of(self.timing),
            dict(self.extra),
        )


async def deliver_plans(
    plans: list[SendPlan],
    collect: Collector,
    how: Delivery,
    on_attempt: OnAttempt | None = None,
) -> None:
    """Send every plan in order through the one dispatch loop."""
    await dispatch_all(
        [(partial(plan.jobs, collect=collect), plan.rate is not None, plan.seed) for plan in plans],
        collect,
        how,
        plans[0].url if plans else "",
        on_attempt,
    )


JobSource = tuple[Callable[[float], Iterable[Job]], bool, int | None]


async def dispatch_all(
    sources: list[JobSource],
    collect: Collector,
    how: Delivery,
    url: str,
    on_attempt: OnAttempt | None = None,
) -> None:
    """Each source's jobs (made from the dispatcher's start time), one source after
    another, through one transport and the one dispatch loop, as the Delivery record
    says; a source says whether its deliveries overlap (a schedule) and seeds its retry
    jitter."""
    async with Pipeline(how.timeout, how.verify, how.transport, url) as pipeline:
        for jobs, concurrent, seed in sources:
            dispatcher = pipeline.loop(
                how.retry,
                how.sign if how.sign else None,
                on_attempt,
                concurrent=concurrent,
                max_in_flight=how.max_in_flight,
                rng=random.Random(seed),
                timing=collect.timing,
            )
            await dispatcher.run(jobs(dispatcher.monotonic()))


def in_process(to: Target, path: str, how: Delivery) -> tuple[str, Delivery]:
    """An app object as ``to``: its in-process URL (``path`` the route), and the
    delivery record with the app's transport."""
    from ..delivery.inprocess import app_transport, app_url

    if isinstance(to, str):
        return to, how
    return app_url(path), replace(how, transport=app_transport(to, how.timeout))


def shown(to: str) -> str:
    from ..redact import Redactor

    return Redactor().text(to)


def run_interruptible(start: Callable[[], Awaitable[None]]) -> bool:
    """Run a coroutine in a new event loop; True when Ctrl-C (or a signal the caller
    turned into one) cancelled it. What it did so far stays where it put it."""

    async def main() -> bool:
        task = asyncio.current_task()
        try:
            await start()
        except asyncio.CancelledError:
            if task is not None:
                task.uncancel()
            return True
        return False

    return asyncio.run(main())
