"""The one dispatch loop (:class:`Dispatcher`, made only by
:mod:`atscale_mock.delivery.pipeline`, which also makes the sender it sends through):
wait for each delivery's
due time, build its request then (payload, URL, headers, faults), deliver it with
retries and a signature per attempt, and report every attempt as it happens.

Deliveries overlap when a schedule asks for it (``concurrent``), at most
``max_in_flight`` at a time: when all of them are still waiting for the receiver, the
next due delivery waits too, and the lag is measured and reported ("behind schedule")
rather than hidden. Without a schedule deliveries go one after another.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .faults import Slot
from .retry import Attempt, OnAttempt, Retry, deliver
from .signing import Signing, new_message_id
from .summary import Reservoir
from .transport import Outcome, Request, Sender

LATE_AFTER = 0.010  # seconds after its due time a delivery counts as late
SPIN = 0.002  # the last 2 ms before a due time are waited by yielding, not by a timer
DEFAULT_MAX_IN_FLIGHT = 256


@dataclass(frozen=True, slots=True)
class Prepared:
    """A delivery ready to go: the request, the payload it carries, its label."""

    request: Request
    payload: Any = None
    label: str = ""
    dropped: bool = False  # fault injection generated it and never sends it
    msg_id: str | None = None  # the signature's message id (None: a new one)
    copy: bool = False  # a duplicate: the same delivery sent again
    signer: tuple[Signing | None] | None = None  # its own signing (None: the dispatcher's)


@dataclass(slots=True)
class Job:
    """One planned send: when (monotonic seconds; None: as soon as the previous is
    done), how to build it at that time, and who hears how it ended."""

    due: float | None
    build: Callable[[], Prepared]
    done: Callable[[Prepared, list[Attempt], float], None] | None = None
    delay: float = 0.0  # without a due time: wait this long first (a delay fault)


@dataclass
class Timing:
    """How well the schedule was held."""

    lags: Reservoir = field(default_factory=Reservoir)  # bounded, whatever the count
    late: int = 0
    waited_for_slot: int = 0  # deliveries that found every in-flight slot taken


class Copies:
    """A duplicate is the same delivery again: the first of a pair is built, the second
    is a copy of it (the same body bytes, headers and signature message id, so a
    receiver that deduplicates by ``webhook-id`` sees a duplicate), with its own labels.
    A malformed body is copied too: malformed applies to a copy only as a copy."""

    def __init__(self) -> None:
        self.kept: dict[Any, Prepared] = {}  # the first of each pair, until its copy goes

    def take(self, key: Any, slot: Slot, build: Callable[[], Prepared]) -> Prepared:
        if not slot.paired:
            return build()
        prior = self.kept.pop(key, None)
        if prior is None:
            first = build()
            first = replace(first, msg_id=first.msg_id or new_message_id())
            self.kept[key] = first
            return first
        malformed = tuple(f for f in prior.request.faults if f.startswith("malformed"))
        request = replace(prior.request, faults=slot.labels + malformed, id=uuid.uuid4().hex[:16])
        return replace(prior, request=request, dropped=slot.dropped, copy=True)


def dropped_attempt(prepared: Prepared) -> Attempt:
    return Attempt(
        prepared.request,
        0,
        time.time(),
        Outcome(None, 0.0, "dropped", "dropped by fault injection"),
        prepared.payload,
        prepared.label,
    )


def signing_hook(
    signer: Signing | None, msg_id: str | None = None
) -> Callable[[Request], Request] | None:
    """A ``prepare`` hook for :func:`deliver` that signs each attempt (a fresh timestamp,
    the same message id across one delivery's retries)."""
    if signer is None:
        return None
    msg_id = msg_id or new_message_id()

    def prepare(request: Request) -> Request:
        signed = signer.headers(request.body, msg_id)
        names = {k.lower() for k in signed}
        kept = tuple((k, v) for k, v in request.headers if k.lower() not in names)
        return replace(request, headers=kept + tuple(signed.items()))

    return prepare


@dataclass
class Dispatcher:
    sender: Sender
    policy: Retry
    signer: Signing | None = None
    on_attempt: OnAttempt | None = None
    concurrent: bool = True
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    rng: random.Random = field(default_factory=random.Random)
    monotonic: Callable[[], float] = time.monotonic
    timing: Timing = field(default_factory=Timing)

    def __post_init__(self) -> None:
        self._hands_off = hands_off(self.sender)  # once, not on every delivery

    async def run(self, jobs: Iterable[Job]) -> None:
        """Dispatch every job; return when all have settled. On cancellation the jobs in
        flight are cancelled too (their attempts recorded as interrupted)."""
        tasks: set[asyncio.Task[None]] = set()
        gate = asyncio.Semaphore(self.max_in_flight)
        try:
            for job in jobs:
                if job.due is None and job.delay:
                    job.due = self.monotonic() + job.delay
                if job.due is not None:
                    await sleep_until(job.due, self.monotonic)
                if not self.concurrent:
                    await self._one(job, self._lag(job))
                    continue
                if gate.locked():
                    self.timing.waited_for_slot += 1
                await gate.acquire()
                task = asyncio.create_task(self._gated(job, self._lag(job), gate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _lag(self, job: Job) -> float:
        if job.due is None:
            return 0.0
        lag = max(0.0, self.monotonic() - job.due)
        self.timing.lags.append(lag)
        if lag > LATE_AFTER:
            self.timing.late += 1
        return lag

    async def _gated(self, job: Job, lag: float, gate: asyncio.Semaphore) -> None:
        try:
            await self._one(job, lag)
        finally:
            gate.release()

    async def _one(self, job: Job, lag: float) -> None:
        prepared = job.build()
        if prepared.dropped:
            attempts = [dropped_attempt(prepared)]
            if self.on_attempt:
                self.on_attempt(attempts[0])
        elif self._hands_off:
            attempts = [await self._hand_off(prepared)]
        else:
            attempts = []
            try:
                await deliver(
                    self.sender,
                    prepared.request,
                    self.policy,
                    payload=prepared.payload,
                    label=prepared.label,
                    rng=self.rng,
                    on_attempt=self.on_attempt,
                    prepare=signing_hook(
                        self.signer if prepared.signer is None else prepared.signer[0],
                        prepared.msg_id,
                    ),
                    into=attempts,
                )
            except asyncio.CancelledError:  # the interrupted attempt counts too
                if attempts and job.done:
                    job.done(prepared, attempts, lag)
                raise
        if job.done:
            job.done(prepared, attempts, lag)

    async def _hand_off(self, prepared: Prepared) -> Attempt:
        """A hand-off transport takes the delivery over (serve's fan-out sends it to
        each subscription through the retry loop there): one attempt, not a retry loop
        of its own, so a delivery passes through the retry loop once."""
        sent_at = time.time()
        outcome = await self.sender.send(prepared.request)
        attempt = Attempt(prepared.request, 1, sent_at, outcome, prepared.payload, prepared.label)
        if self.on_attempt:
            self.on_attempt(attempt)
        return attempt


def hands_off(sender: Sender) -> bool:
    """Whether ``sender`` (or the caller's sender it wraps) takes deliveries over
    instead of making a request: its ``hands_off`` is true."""
    inner = getattr(sender, "borrowed", sender)
    return bool(getattr(inner, "hands_off", False))


async def sleep_until(due: float, monotonic: Callable[[], float] = time.monotonic) -> None:
    """Sleep until ``due`` on the monotonic clock: a timer for most of the wait, then a
    few loop turns, since timers wake up to a millisecond or more late under load."""
    delay = due - monotonic() - SPIN
    if delay > 0:
        await asyncio.sleep(delay)
    while monotonic() < due:
        await asyncio.sleep(0)
