"""One event, N times: ``payload()`` builds one, ``send()``/``asend()`` deliver N at a
rate through the one dispatch loop, ``demo()`` sends each of the seven once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..config import DEFAULT_SLOW_QUERY_THRESHOLD, DEFAULT_TIMEOUT
from ..delivery.dispatch import (
    DEFAULT_MAX_IN_FLIGHT,
    Copies,
    Dispatcher,
    Job,
    Prepared,
    Timing,
)
from ..delivery.faults import Faults, Slot, arrange
from ..delivery.request import build_request, fill_url
from ..delivery.retry import Attempt, OnAttempt
from ..delivery.transport import make_sender
from ..errors import UsageError
from ..ids import derive_seed
from ..payload import BuildOptions, build_payload, check_paths, resolve_event
from ..report.summary import Summary
from .options import Retry, Signing, as_expect, as_retry, resolve_clock, resolve_seed
from .results import DeliveryRecord, ScheduleFigures, SendResult
from .target import resolve_target

if TYPE_CHECKING:
    from ..catalogue import Event
    from ..receiver import Received
    from ..scenario.model import Expect

Headers = Mapping[str, str] | Iterable[tuple[str, str]] | None


def payload(
    event: str,
    *,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - the CLI's --set
    full: bool = False,
    failed: bool = False,
    error: str | None = None,
    org: str | None = None,
    project: str | None = None,
    cube: str | None = None,
    slow_threshold: float = DEFAULT_SLOW_QUERY_THRESHOLD,
    clock: str | datetime | None = None,
) -> dict[str, Any]:
    """One event's payload (CLI name or ``event_type``), as a dict in the wire shape, as
    ``atscale-mock show`` prints it: the same seed gives the same payload; ``set``
    overrides fields by dotted path."""
    ev, options, overrides, _ = _inputs(
        event, seed, set, full, failed, error, org, project, cube, slow_threshold, clock
    )
    return build_payload(ev, resolve_seed(seed), options, overrides)


def _inputs(
    event: str,
    seed: int | None,
    sets: Mapping[str, Any] | None,
    full: bool,
    failed: bool,
    error: str | None,
    org: str | None,
    project: str | None,
    cube: str | None,
    slow_threshold: float,
    clock: str | datetime | None,
) -> tuple[Event, BuildOptions, dict[str, Any], bool]:
    ev = resolve_event(event)
    overrides = dict(sets or {})
    check_paths(ev, list(overrides))
    fixed = resolve_clock(clock, seed is not None)
    options = BuildOptions(
        clock=fixed or datetime.now(UTC),
        full=full,
        failed=failed or error is not None,
        error=error,
        slow_threshold=slow_threshold,
        org=org,
        project=project,
        cube=cube,
    )
    return ev, options, overrides, fixed is not None


@dataclass(frozen=True, slots=True)
class SendPlan:
    """What ``send`` delivers: ``count`` payloads of one event, the i-th due i/rate
    seconds in (one after another without a rate)."""

    event: Event
    url: str
    seed: int
    count: int = 1
    rate: float | None = None
    options: BuildOptions = field(default_factory=BuildOptions)
    overrides: dict[str, Any] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    fixed_clock: bool = False  # True: options.clock (+ index/rate); False: now at build
    faults: Faults = field(default_factory=Faults)

    def payload(self, index: int) -> dict[str, Any]:
        if self.fixed_clock:
            step = index / self.rate if self.rate else 0.0
            options = replace(self.options, clock=self.options.clock + timedelta(seconds=step))
        else:
            options = replace(self.options, clock=datetime.now(UTC))
        return build_payload(
            self.event, derive_seed(self.seed, "send", index), options, self.overrides
        )

    def jobs(self, start: float, collect: Collector) -> Iterator[Job]:
        """The plan's sends in order, each built when it falls due; a duplicate is a
        copy of its original (:class:`Copies`)."""
        fault_rng = random.Random(derive_seed(self.seed, "faults"))
        slots = arrange(self.count, self.faults, fault_rng)
        copies = Copies(slots)
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
            self.summary.dropped += 1
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


def normalise_headers(headers: Headers) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), str(v)) for k, v in items)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How deliveries go out, the same for every plan of one call."""

    retries: int | Retry = 0
    sign: Signing | None = None
    timeout: float = DEFAULT_TIMEOUT
    verify: bool | str = True
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    transport: Any = None
    on_attempt: OnAttempt | None = None


async def asend(event: str, *, to: Any, **options: Any) -> SendResult:
    """Deliver ``count`` payloads of ``event`` to ``to`` (a URL, with ``{org_id}``-style
    placeholders, or ``"local"``), ``rate`` per second (None: one after another), with
    ``headers``, ``retries`` (an int or a :class:`Retry`), ``sign`` (a
    :class:`Signing`) and ``faults`` (a :class:`Faults`). Takes every keyword of
    :func:`send`. Cancelling it cancels the deliveries in flight (their attempts are
    recorded as interrupted) and raises CancelledError."""
    expect = as_expect(options.pop("expect_status", None))
    collect = Collector(options.get("keep_records", True), expect=expect)
    await _send(collect, event, to, **options)
    return collect.result()


def send(
    event: str,
    *,
    to: Any,
    count: int = 1,
    rate: float | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - the CLI's --set
    full: bool = False,
    failed: bool = False,
    error: str | None = None,
    org: str | None = None,
    project: str | None = None,
    cube: str | None = None,
    slow_threshold: float = DEFAULT_SLOW_QUERY_THRESHOLD,
    clock: str | datetime | None = None,
    headers: Headers = None,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int | Retry = 0,
    sign: Signing | None = None,
    faults: Faults | None = None,
    verify: bool | str = True,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    transport: Any = None,
    on_attempt: OnAttempt | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    keep_records: bool = True,
    expect_status: str | list[str] | tuple[str, ...] | None = None,
    path: str = "/",
) -> SendResult:
    """Deliver ``count`` payloads of ``event`` (CLI name or ``event_type``) to ``to``: a
    URL (``{org_id}``-style placeholders are filled from each payload) or ``"local"``
    (the built-in receiver, for the call's duration). ``rate`` per second holds a
    schedule with up to ``max_in_flight`` deliveries in flight (None: one after
    another). ``on_attempt`` hears every attempt as it is made. Runs its own event loop
    (use :func:`asend` in async code); Ctrl-C ends it early with the result so far,
    marked ``interrupted``. ``to`` may also be an ASGI or WSGI app object (FastAPI,
    Starlette, Flask, Django's handlers): delivered in process, no server, to route
    ``path``. ``expect_status`` (``"401"``, ``"4xx"``, ``"401,403"``)
    makes a negative test: a delivery passes when its status is one of those, and
    ``ok`` means every delivery passed (by default: got a 2xx)."""
    collect = Collector(keep_records, expect=as_expect(expect_status))
    options = dict(locals())
    for name in ("event", "to", "collect", "expect_status"):
        options.pop(name)
    interrupted = run_interruptible(lambda: _send(collect, event, to, **options))
    return collect.result(interrupted)


async def _send(
    collect: Collector,
    event: str,
    to: Any,
    *,
    count: int = 1,
    rate: float | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,  # noqa: A002
    full: bool = False,
    failed: bool = False,
    error: str | None = None,
    org: str | None = None,
    project: str | None = None,
    cube: str | None = None,
    slow_threshold: float = DEFAULT_SLOW_QUERY_THRESHOLD,
    clock: str | datetime | None = None,
    headers: Headers = None,
    faults: Faults | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    keep_records: bool = True,
    path: str = "/",
    **delivery: Any,
) -> None:
    if count < 1:
        raise UsageError(f"count must be at least 1, got {count}")
    if rate is not None and not 0 < rate < float("inf"):
        raise UsageError(f"rate must be a positive number, got {rate}")
    ev, options, overrides, fixed = _inputs(
        event, seed, set, full, failed, error, org, project, cube, slow_threshold, clock
    )
    collect.seed = run_seed = resolve_seed(seed)
    to, delivery = in_process(to, path, delivery)
    collect.extra = {"event": ev.name, "url": _shown(to)}
    with resolve_target(to, on_received, on_local) as url:
        plan = SendPlan(
            ev,
            url,
            run_seed,
            count,
            rate,
            options,
            overrides,
            normalise_headers(headers),
            fixed,
            faults or Faults(),
        )
        await deliver_plans([plan], collect, Delivery(**delivery))


async def deliver_plans(plans: list[SendPlan], collect: Collector, how: Delivery) -> None:
    """Send every plan in order through the one dispatch loop."""
    sender = make_sender(how.timeout, how.verify, how.transport, plans[0].url if plans else "")
    try:
        for plan in plans:
            dispatcher = Dispatcher(
                sender,
                as_retry(how.retries).policy(),
                how.sign.signer() if how.sign else None,
                how.on_attempt,
                concurrent=plan.rate is not None,
                max_in_flight=how.max_in_flight,
                rng=random.Random(plan.seed),
                timing=collect.timing,
            )
            await dispatcher.run(plan.jobs(dispatcher.monotonic(), collect))
    finally:
        await sender.aclose()


def in_process(to: Any, path: str, delivery: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An app object as ``to``: its in-process URL (``path`` the route) and transport."""
    from ..delivery.inprocess import app_transport, app_url, is_app

    if not is_app(to):
        return to, delivery
    return app_url(path), {**delivery, "transport": app_transport(to)}


def _shown(to: str) -> str:
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


def demo(
    *,
    to: str = "local",
    seed: int | None = None,
    clock: str | datetime | None = None,
    full: bool = False,
    on_attempt: OnAttempt | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
) -> SendResult:
    """Each of the seven events once, to ``to`` (default: the built-in receiver). The
    batch result and the prune result belong to the batch that started (same ``id``,
    project and cube), so a receiver that checks ordering sees one coherent batch."""
    from ..catalogue import EVENTS

    run_seed = resolve_seed(seed)
    fixed = resolve_clock(clock, seed is not None)
    options = BuildOptions(clock=fixed or datetime.now(UTC), full=full)
    collect = Collector(seed=run_seed, extra={"events": [e.name for e in EVENTS]})

    async def main() -> None:
        with resolve_target(to, on_received, on_local) as url:
            plans = [
                SendPlan(e, url, run_seed + i, options=options, fixed_clock=fixed is not None)
                for i, e in enumerate(EVENTS)
            ]
            plans = _one_lifecycle(plans)
            await deliver_plans(plans, collect, Delivery(on_attempt=on_attempt))

    return collect.result(run_interruptible(main))


def _one_lifecycle(plans: list[SendPlan]) -> list[SendPlan]:
    """The batch-result and prune-result plans made to name the batch-start's batch."""
    start = next((p for p in plans if p.event.name == "batch-start"), None)
    if start is None:
        return plans
    started = start.payload(0)
    shared = {
        "id": started["id"],
        "context.project_id": started["context"]["project_id"],
        "cube_id": started.get("cube_id"),
    }
    return [
        replace(p, overrides={**shared, **p.overrides})
        if p.event.name in ("batch-result", "prune-result")
        else p
        for p in plans
    ]
