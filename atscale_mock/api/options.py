"""Option records of the library: small, frozen, validated when made. One record means
the same thing in every function (and every command) that takes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..config import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    MAX_TIME_SCALE,
    MIN_TIME_SCALE,
    SEEDED_CLOCK,
)
from ..delivery.faults import Faults
from ..delivery.retry import RetryPolicy
from ..delivery.signing import DEFAULT_HMAC_HEADER, Signer
from ..errors import UsageError
from ..ids import new_seed

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
                    f"retry schedule: {part.strip()!r} is not {exc}",
                    "for example 5s,5m,30m,2h",
                ) from None
        return cls(len(waits), schedule=tuple(waits), time_scale=time_scale)


def as_retry(value: int | Retry | None) -> Retry:
    if value is None:
        return Retry()
    return value if isinstance(value, Retry) else Retry(value)


def resolve_seed(seed: int | None) -> int:
    """The seed given, or a new random one (reported in every result)."""
    return new_seed() if seed is None else seed


def resolve_clock(clock: str | datetime | None, seeded: bool) -> datetime | None:
    """The fixed time of generated payloads: ``clock``, else the seeded default when a
    seed was given (so output is byte-identical), else None (now, at each build).
    ``clock="now"`` asks for the time of each build even with a seed."""
    from ..payload import parse_timestamp

    if clock == "now":
        return None
    if isinstance(clock, datetime):
        return clock.astimezone(UTC)
    if clock:
        return parse_timestamp(clock)
    return parse_timestamp(SEEDED_CLOCK) if seeded else None


__all__ = ["Faults", "Retry", "Signing", "as_retry", "resolve_clock", "resolve_seed"]


def as_expect(status: str | list[str] | tuple[str, ...] | None) -> Expect | None:
    """``"401"``, ``"4xx"``, ``"401,403"`` (or a list of those) as an expectation; None
    keeps the default (a 2xx passes)."""
    if status is None:
        return None
    from ..scenario.model import Expect

    parts = status.split(",") if isinstance(status, str) else list(status)
    wanted = tuple(str(p).strip().lower() for p in parts if str(p).strip())
    bad = [
        w
        for w in wanted
        if not (len(w) == 3 and (w.isdigit() or (w[0] in "12345" and w[1:] == "xx")))
    ]
    if not wanted or bad:
        raise UsageError(
            f"expect_status: {status!r} is not a status code or class",
            "for example 401, 4xx or 401,403",
        )
    return Expect(status=wanted)
