"""Option records of the library: small, frozen, validated when made. One record means
the same thing in every function (and every command) that takes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    MAX_TIME_SCALE,
    MIN_TIME_SCALE,
)
from ..delivery.faults import Faults
from ..delivery.retry import RetryPolicy
from ..delivery.signing import DEFAULT_HMAC_HEADER, Signer
from ..errors import UsageError
from ..events.make import resolve_clock, resolve_seed
from ..scenario.units import parse_rate_option

if TYPE_CHECKING:
    from ..scenario.model import Expect

MAX_RETRIES = 100  # a ceiling against typos; a schedule can name its own waits
MAX_WAIT = 24 * 3600.0  # seconds: no single retry wait is longer (a typo such as 999999999h)


@dataclass(frozen=True, slots=True)
class Signing:
    """Sign every delivery: ``scheme`` is ``standard-webhooks`` (``secret`` is
    ``whsec_<base64>``) or ``hmac-sha256`` (``header`` carries ``sha256=<hex>``).
    ``bad`` sends a well-formed but wrong signature; ``stale`` back-dates the timestamp
    by that many seconds."""

    scheme: str
    secret: str
    header: str = DEFAULT_HMAC_HEADER
    bad: bool = False
    stale: float = 0.0

    def __post_init__(self) -> None:
        self.signer()  # validates scheme and secret now

    def signer(self) -> Signer:
        return Signer(self.scheme, self.secret, self.header, self.bad, self.stale)

    def __repr__(self) -> str:  # never show the secret
        return f"Signing(scheme={self.scheme!r}, secret='***', header={self.header!r})"


@dataclass(frozen=True, slots=True)
class Retry:
    """Retries on transport failures, 429 and 5xx: ``retries`` with exponential backoff
    (equal jitter, ``base`` doubling up to ``cap``), or a fixed ``schedule`` of waits
    (seconds). ``time_scale`` divides every wait. Retry-After is honoured."""

    retries: int = 0
    schedule: tuple[float, ...] = ()
    time_scale: float = 1.0
    base: float = DEFAULT_BACKOFF_BASE
    cap: float = DEFAULT_BACKOFF_CAP

    def __post_init__(self) -> None:
        if not 0 <= self.retries <= MAX_RETRIES:
            raise UsageError(f"retries must be from 0 to {MAX_RETRIES}, got {self.retries}")
        if any(isinstance(w, bool) or not 0 <= w <= MAX_WAIT for w in self.schedule):
            raise UsageError(f"retry schedule: every wait must be from 0 to {MAX_WAIT:.0f} s (24h)")
        low, high = MIN_TIME_SCALE, MAX_TIME_SCALE
        if isinstance(self.time_scale, bool) or not low <= self.time_scale <= high:
            raise UsageError(
                f"retry time_scale must be from {low:g} to {high:g}, got {self.time_scale}"
            )

    def policy(self) -> RetryPolicy:
        if self.schedule:
            return RetryPolicy(
                len(self.schedule), schedule=self.schedule, time_scale=self.time_scale
            )
        return RetryPolicy(self.retries, self.base, self.cap, time_scale=self.time_scale)

    @classmethod
    def parse_schedule(cls, text: str, time_scale: float = 1.0) -> Retry:
        """``5s,5m,30m,2h`` as a Retry with that schedule."""
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


def as_retry(value: int | Retry | None) -> Retry:
    if value is None:
        return Retry()
    return value if isinstance(value, Retry) else Retry(value)


__all__ = [
    "Faults",
    "Retry",
    "Signing",
    "as_expect",
    "as_retry",
    "resolve_clock",
    "resolve_seed",
]


def as_expect(status: str | list[str] | tuple[str, ...] | None) -> Expect | None:
    """``"401"``, ``"4xx"``, ``"401,403"`` (or a list of those) as an expectation; None
    keeps the default (a 2xx passes). Imports the scenario model only when asked."""
    from ..scenario.model import as_expect as parse

    return parse(status)


def as_rate(rate: float | str | None) -> float | None:
    """The CLI's spellings (``20/s``, ``600/m``, ``"2000"``) or a number of events a second."""
    if rate is None:
        return None
    try:
        per_second = parse_rate_option(rate)
    except ValueError as exc:
        raise UsageError(f"rate: {exc}, got {rate!r}", field="rate") from None
    if not per_second < float("inf"):
        raise UsageError(f"rate must be a finite number, got {rate!r}", field="rate")
    return per_second
