"""One delivery = one or more attempts, with retries as a policy decides.

Retried: transport failures, 429 and 5xx. Never retried: other 4xx (410 included),
2xx and 3xx (redirects are reported, not followed). ``Retry-After`` is honoured
(seconds or an HTTP date), capped like every wait at ``Retry.cap``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from ..config import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP, DEFAULT_RETRIES
from .transport import Outcome, Request, Sender

MAX_RETRIES = 100  # a ceiling against typos; a schedule can name its own waits
MAX_WAIT = 24 * 3600.0  # seconds: no single retry wait is longer (a typo such as 999999999h)


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and when to retry, validated when made: on transport failures, 429 and
    5xx, ``retries`` times with exponential backoff (equal jitter, ``base`` doubling up
    to ``cap``), or a fixed ``schedule`` of waits in seconds (as ``--retry-schedule
    5s,5m,30m,2h``), which sets the number of retries. ``time_scale`` divides every wait
    (compress hours into seconds). ``Retry-After`` is honoured either way; 410 Gone,
    like other 4xx, stops retrying. The one record of retries: the library's
    ``am.Retry`` and what the delivery loop follows."""

    retries: int = DEFAULT_RETRIES
    schedule: tuple[float, ...] = ()
    time_scale: float = 1.0
    base: float = DEFAULT_BACKOFF_BASE
    cap: float = DEFAULT_BACKOFF_CAP

    def __post_init__(self) -> None:
        from ..config import MAX_TIME_SCALE, MIN_TIME_SCALE
        from ..errors import UsageError

        if isinstance(self.retries, bool) or not 0 <= self.retries <= MAX_RETRIES:
            raise UsageError(f"retries must be from 0 to {MAX_RETRIES}, got {self.retries}")
        if any(isinstance(w, bool) or not 0 <= w <= MAX_WAIT for w in self.schedule):
            raise UsageError(f"retry schedule: every wait must be from 0 to {MAX_WAIT:.0f} s (24h)")
        low, high = MIN_TIME_SCALE, MAX_TIME_SCALE
        if isinstance(self.time_scale, bool) or not low <= self.time_scale <= high:
            raise UsageError(
                f"retry time_scale must be from {low:g} to {high:g}, got {self.time_scale}"
            )

    @classmethod
    def parse_schedule(cls, text: str, time_scale: float = 1.0) -> Retry:
        """``5s,5m,30m,2h`` as a Retry with that schedule."""
        from ..errors import UsageError
        from ..scenario.units import parse_duration

        waits = []
        for part in text.split(","):
            try:
                waits.append(parse_duration(part.strip()))
            except ValueError as exc:
                raise UsageError(
                    f"schedule: {part.strip()!r} is not {exc}",
                    "for example 5s,5m,30m,2h",
                    field="schedule",
                ) from None
        return cls(len(waits), schedule=tuple(waits), time_scale=time_scale)

    @property
    def attempts(self) -> int:
        return 1 + (len(self.schedule) if self.schedule else self.retries)

    def should_retry(self, outcome: Outcome) -> bool:
        if outcome.status is None:
            return True
        return outcome.status == 429 or outcome.status >= 500

    def is_last(self, attempt: int, outcome: Outcome) -> bool:
        """Attempt number ``attempt`` (1-based) ended the delivery: nothing to retry, or
        no retries left."""
        return attempt >= self.attempts or not self.should_retry(outcome)

    def wait(self, retry_index: int, outcome: Outcome, rng: random.Random) -> float:
        """Seconds before retry number ``retry_index`` (0-based)."""
        hinted = parse_retry_after(outcome.retry_after)
        if self.schedule:
            wait = self.schedule[retry_index]
            wait = max(wait, hinted) if hinted is not None else wait
        elif hinted is not None:
            wait = min(hinted, self.cap)
        else:
            ceiling: float = min(self.cap, self.base * 2.0**retry_index)
            wait = ceiling / 2 + rng.uniform(0, ceiling / 2)  # exponential, "equal jitter"
        return wait / self.time_scale


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds to wait, from delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of one delivery, as logged and reported."""

    request: Request
    attempt: int  # 1-based
    sent_at: float  # epoch seconds
    outcome: Outcome
    payload: Any = None
    label: str = ""  # step id and index in scenarios; "" for send

    @property
    def ok(self) -> bool:
        return self.outcome.ok


Sleep = Callable[[float], Awaitable[None]]
OnAttempt = Callable[[Attempt], None]


async def deliver(
    sender: Sender,
    request: Request,
    policy: Retry,
    *,
    payload: Any = None,
    label: str = "",
    rng: random.Random | None = None,
    sleep: Sleep | None = None,
    on_attempt: OnAttempt | None = None,
    wall: Callable[[], float] = time.time,
    prepare: Callable[[Request], Request] | None = None,
    into: list[Attempt] | None = None,
) -> list[Attempt]:
    """Attempt ``request`` until it succeeds, is not retryable, or retries run out.
    ``on_attempt`` sees every attempt as soon as it is made (for logs and progress);
    ``prepare`` rewrites the request before each attempt (to sign it afresh); ``into``
    collects the attempts as they are made (a caller still has them if cancelled)."""
    import asyncio

    sleep = sleep or asyncio.sleep
    rng = rng or random.Random()
    attempts: list[Attempt] = [] if into is None else into
    final = request
    for index in range(policy.attempts):
        sent_at = wall()
        final = prepare(request) if prepare else request
        try:
            outcome = await sender.send(final)
        except asyncio.CancelledError:  # interrupted mid-request: log it, then stop
            cut = Outcome(None, wall() - sent_at, "interrupted", "interrupted before an answer")
            attempt = Attempt(final, index + 1, sent_at, cut, payload, label)
            attempts.append(attempt)
            if on_attempt:
                on_attempt(attempt)
            raise
        attempt = Attempt(final, index + 1, sent_at, outcome, payload, label)
        attempts.append(attempt)
        if on_attempt:
            on_attempt(attempt)
        if policy.is_last(index + 1, outcome):
            break
        await sleep(policy.wait(index, outcome, rng))
    return attempts
